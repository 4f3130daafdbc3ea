"""Sparkplug B host state: births and aliases, sequence gaps, deaths, undecodable payloads."""

from __future__ import annotations

import pytest

from contracts import sparkplug_b_pb2 as pb
from contracts.errors import ContractError
from services.connectors.core.mapping import SparkplugTag
from services.connectors.core.sparkplug import SparkplugSession, metric_value, rebirth_command

TAGS = [SparkplugTag(edge_node="cell-1", device="cnc-01", metric="Spindle/Speed", machine="line-1/cnc-01",
                     signal="spindle_speed_rpm"),
        SparkplugTag(edge_node="cell-1", device="cnc-02", metric="Spindle/Speed", machine="line-1/cnc-02",
                     signal="spindle_speed_rpm")]


def payload(seq: int | None, *metrics: dict) -> bytes:
    p = pb.Payload(timestamp=1_772_000_000_000)
    if seq is not None:
        p.seq = seq
    for m in metrics:
        p.metrics.add(**m)
    return p.SerializeToString()


def born(session: SparkplugSession) -> None:
    session.handle("spBv1.0/g/NBIRTH/cell-1", payload(0, {"name": "bdSeq", "datatype": pb.Int64, "long_value": 7}))
    for i, dev in enumerate(["cnc-01", "cnc-02"], start=1):
        session.handle(f"spBv1.0/g/DBIRTH/cell-1/{dev}", payload(
            i, {"name": "Spindle/Speed", "alias": 10, "datatype": pb.Double, "double_value": 8000.0},
            {"name": "Unmapped/Thing", "alias": 11, "datatype": pb.Double, "double_value": 1.0}))


def test_birth_aliases_resolve_data_and_unknown_metrics_are_reported() -> None:
    s = SparkplugSession("g", TAGS)
    born(s)
    out = s.handle("spBv1.0/g/DDATA/cell-1/cnc-02", payload(
        3, {"alias": 10, "datatype": pb.Double, "double_value": 8100.0, "timestamp": 1_772_000_001_000},
        {"alias": 11, "datatype": pb.Double, "double_value": 2.0}))
    [(tag, value, ts, _)] = out.updates
    assert tag.machine == "line-1/cnc-02" and value == 8100.0 and ts.timestamp() == 1_772_000_001
    assert out.unknown_metrics == ["cell-1/cnc-02/Unmapped/Thing"] and not out.gap


def test_sequence_gap_requests_one_rebirth() -> None:
    s = SparkplugSession("g", TAGS)
    born(s)
    first = s.handle("spBv1.0/g/DDATA/cell-1/cnc-01", payload(9, {"alias": 10, "datatype": pb.Double,
                                                                   "double_value": 1.0}))
    assert first.gap and first.rebirth == "cell-1" and first.updates  # data still usable
    again = s.handle("spBv1.0/g/DDATA/cell-1/cnc-01", payload(12, {"alias": 10, "datatype": pb.Double,
                                                                    "double_value": 1.0}))
    assert again.gap and again.rebirth is None  # already asked; wait for the births
    born(s)
    assert not s.handle("spBv1.0/g/DDATA/cell-1/cnc-01", payload(3)).gap


def test_data_before_birth_asks_for_rebirth() -> None:
    out = SparkplugSession("g", TAGS).handle("spBv1.0/g/DDATA/cell-1/cnc-01", payload(5, {"alias": 10}))
    assert out.rebirth == "cell-1" and out.updates == []


def test_ndeath_marks_machines_offline_unless_stale() -> None:
    s = SparkplugSession("g", TAGS)
    born(s)
    stale = s.handle("spBv1.0/g/NDEATH/cell-1", payload(None, {"name": "bdSeq", "datatype": pb.Int64,
                                                               "long_value": 6}))
    assert stale.offline == [] and "stale" in stale.ignored
    out = s.handle("spBv1.0/g/NDEATH/cell-1", payload(None, {"name": "bdSeq", "datatype": pb.Int64,
                                                             "long_value": 7}))
    assert out.offline == ["line-1/cnc-01", "line-1/cnc-02"]
    ddeath = SparkplugSession("g", TAGS)
    born(ddeath)
    assert ddeath.handle("spBv1.0/g/DDEATH/cell-1/cnc-01", payload(3)).offline == ["line-1/cnc-01"]


def test_undecodable_payload_is_a_contract_error_and_other_groups_are_ignored() -> None:
    s = SparkplugSession("g", TAGS)
    with pytest.raises(ContractError, match="undecodable Sparkplug B payload"):
        s.handle("spBv1.0/g/DDATA/cell-1/cnc-01", b"\xff\xff\xff")
    assert s.handle("spBv1.0/other/DDATA/cell-1/cnc-01", b"\xff").ignored


def test_signed_values_and_rebirth_command() -> None:
    m = pb.Payload.Metric(datatype=pb.Int32, int_value=(1 << 32) - 5)
    assert metric_value(m) == -5
    assert metric_value(pb.Payload.Metric(datatype=pb.Int16, int_value=65535)) == -1
    assert metric_value(pb.Payload.Metric(datatype=pb.Double, is_null=True)) is None
    cmd = pb.Payload.FromString(rebirth_command())
    assert cmd.metrics[0].name == "Node Control/Rebirth" and cmd.metrics[0].boolean_value
