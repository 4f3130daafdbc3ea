"""Integrator ergonomics: the browse skeleton is valid YAML whatever the node ids hold, ``--json``
keeps ids whole, logs are quiet by default and rate-limited in debug mode, the metrics endpoint
binds 127.0.0.1 unless told otherwise and a bind failure is a clear error."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from contracts.errors import ConfigError
from services.connectors import logs
from services.connectors.app import Connector, ConnectorOptions, ConnectorSettings
from services.connectors.browse import Variable, as_json, mapping_skeleton
from services.connectors.core.mapping import parse_mapping

# Siemens S7-1500 style ids (quoted DB and member names), plus the characters YAML cares about.
IDS = ['ns=3;s="DB_Line1"."Spindle"."Speed"', 'ns=3;s="DB_Line1"."Coolant"."Pressure #2"',
       "ns=2;s=Line1: CNC 03 'A'", 'ns=4;s=back\\slash{and}[brackets]&*!|>%@`',
       "nsu=urn:siemens:s7;s=\"DB1\".\"x\"", "ns=2;i=1042", "ns=2;s=" + "x" * 300]


def _vars() -> list[Variable]:
    found = [Variable(node, f"/Objects/PLC/{i}\nsecond line", "Double", 1.5, True) for i, node in enumerate(IDS)]
    return found + [Variable("ns=3;s=\"DB1\".\"Name\"", "/Objects/PLC/name", "String", "x", False)]


def test_skeleton_round_trips_every_node_id_through_yaml_and_the_mapping_parser() -> None:
    text = mapping_skeleton("my-opcua", "opc.tcp://10.0.0.5:4840/a b", _vars())
    data = yaml.safe_load(text)
    tags = data["sources"][0]["tags"]
    assert [t["node"] for t in tags] == IDS  # the String variable is not offered as a signal
    assert data["sources"][0]["endpoint"] == "opc.tcp://10.0.0.5:4840/a b"
    # after the integrator fills in the placeholders the file is a valid mapping
    filled = text.replace("line-1/CHANGE-ME", "line-1/cnc-01")
    n = iter(range(100))
    while "CHANGE_ME_c" in filled:
        filled = filled.replace("CHANGE_ME_c", f"sensor{next(n)}_c", 1)
    mapping = parse_mapping(filled, "skeleton.yaml")
    assert [t.node for t in mapping.sources[0].tags] == IDS
    # unfilled, the placeholders fail on purpose, naming the field
    with pytest.raises(ConfigError, match=r"skeleton.yaml:\d+: sources\[0\].tags\[0\].machine"):
        parse_mapping(text, "skeleton.yaml")


def test_skeleton_of_a_server_without_numeric_variables_is_still_yaml() -> None:
    data = yaml.safe_load(mapping_skeleton("x", "opc.tcp://h:1", []))
    assert data["sources"][0]["tags"] == []


def test_browse_json_keeps_full_ids_and_survives_odd_values() -> None:
    found = _vars() + [Variable("ns=2;s=nan", "/n", "Double", float("nan"), True),
                       Variable("ns=2;s=obj", "/o", "ExtensionObject", object(), False)]
    rows = json.loads(as_json(found))
    assert [r["node_id"] for r in rows][:len(IDS)] == IDS
    assert rows[-2]["value"] == "nan" and rows[-1]["value"].startswith("<object")


def test_rate_limit_filter_passes_a_burst_then_counts_what_it_dropped() -> None:
    now = [0.0]
    filt = logs.RateLimitFilter(burst=3, window_s=10, clock=lambda: now[0])
    log = logging.getLogger("test.ratelimit")

    def rec(msg: str) -> logging.LogRecord:
        return log.makeRecord(log.name, logging.INFO, __file__, 1, msg, (), None)

    passed = [filt.filter(rec("Publish callback called with result: %s")) for _ in range(100)]
    assert passed.count(True) == 3
    assert filt.filter(rec("another template"))  # limits are per message template
    now[0] = 11.0
    after = rec("Publish callback called with result: %s")
    assert filt.filter(after) and "97 similar messages suppressed" in after.getMessage()


def test_default_logging_is_quiet_and_verbose_keeps_libraries_quiet() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        for mode, own_info, lib_info in (("quiet", False, False), ("info", True, False), ("debug", True, True)):
            buf = io.StringIO()
            logs.configure(mode, buf)  # type: ignore[arg-type]
            logging.getLogger("linewatch.connectors.opcua").info("connected")
            for _ in range(50):
                logging.getLogger("asyncua.common.subscription").info("Publish callback called with result: %s", 1)
            text = buf.getvalue()
            assert ("connected" in text) == own_info, mode
            assert text.count("Publish callback") == (5 if lib_info else 0), mode
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("linewatch").setLevel(logging.NOTSET)
        for name in logs.LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_metrics_bind_localhost_by_default_and_env_can_open_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ConnectorOptions().metrics_host == "127.0.0.1"
    monkeypatch.setenv("LINEWATCH_CONNECTOR__METRICS_HOST", "0.0.0.0")
    assert ConnectorSettings().connector.metrics_host == "0.0.0.0"


def test_a_metrics_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    mapping = parse_mapping("""
version: 1
sources:
  - {name: m, protocol: modbus, host: 127.0.0.1, port: 1, tags: [{machine: l/m, signal: a_c, address: 0}]}
""")
    settings = ConnectorSettings(connector=ConnectorOptions(buffer_path=tmp_path / "b.sqlite", metrics_port=port))
    try:
        with pytest.raises(ConfigError, match=rf"metrics: cannot listen on 127.0.0.1:{port}: .*METRICS_HOST"):
            Connector(mapping, settings, registry=CollectorRegistry()).run()
    finally:
        busy.close()
