"""Kafka -> Parquet archive against a real broker: partitions, dead letters, no duplicates on replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contracts import EVENTS, TELEMETRY, KafkaSettings, Topic
from contracts.messages import FailureOccurred, MaintenanceDone, TelemetrySample
from pipelines.history.archive import compact, read_archive
from pipelines.history.sink import archive_loop
from pipelines.training.importer import validate_events, validate_telemetry
from runtime import Producer, ensure_topics

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 5, 23, 50, tzinfo=UTC)  # crosses midnight: two day partitions


def _drain(loop, handler, want: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while handler.rows["telemetry"] + handler.rows["events"] < want and time.monotonic() < deadline:
        loop.poll_once()


def test_archive_partitions_and_replay_without_duplicates(kafka_settings: KafkaSettings, unique: Callable,
                                                          tmp_path: Path) -> None:
    tel_t = Topic(unique("tel"), TELEMETRY.model, TELEMETRY.key_of)
    ev_t = Topic(unique("ev"), EVENTS.model, EVENTS.key_of)
    ensure_topics(kafka_settings, [tel_t.name, ev_t.name, "linewatch.deadletter.v1"])
    machines = ["line-1/cnc-01", "line-1/cnc-02"]
    with Producer(kafka_settings) as p:
        for i in range(30):
            for m in machines:
                p.send(tel_t, TelemetrySample(machine_id=m, ts=T0 + timedelta(minutes=i), seq=i,
                                              signals={"spindle_power_kw": 7.0 + i / 10, "coolant_pressure_bar": 9.8}))
        p.send(ev_t, FailureOccurred(event_id="f1", machine_id=machines[0], ts=T0 + timedelta(minutes=20),
                                     mode="tool_wear", component="tool"))
        p.send(ev_t, MaintenanceDone(event_id="m1", machine_id=machines[0], ts=T0 + timedelta(minutes=25),
                                     action="replace_tool", component="tool", planned=False, duration_s=300))
        p.send_raw(tel_t.name, b"{not json", b"line-1/cnc-01")  # poison: dead letter, not a crash
        p.flush()
    root = tmp_path / "archive"
    loop, handler = archive_loop(kafka_settings, root, unique("g"), topics=(tel_t, ev_t), max_records=25)
    _drain(loop, handler, 62)
    loop.close()
    assert handler.rows == {"telemetry": 60, "events": 2} and loop.dead_lettered == 1
    days = sorted(d.name for d in (root / "telemetry").iterdir())
    assert days == ["date=2026-01-05", "date=2026-01-06"]
    assert (root / "telemetry" / "date=2026-01-06" / "machine=line-1__cnc-02").is_dir()
    # a crash before the commit means the batch is read again: replay everything with new batches
    again, h2 = archive_loop(kafka_settings, root, unique("g"), topics=(tel_t, ev_t), max_records=7)
    _drain(again, h2, 62)
    again.close()
    tel = read_archive(root, "telemetry")
    assert len(tel) == 60 and not tel.duplicated(["machine_id", "ts"]).any()
    assert compact(root) > 0
    files = list((root / "telemetry").rglob("*.parquet"))
    assert len(files) == 4  # one per (day, machine)
    # what the archive holds is a valid history in the import format
    tel = validate_telemetry(read_archive(root, "telemetry"))
    ev = validate_events(read_archive(root, "events"), set(tel["machine_id"]))
    assert ev["kind"].tolist() == ["failure", "maintenance_done"] and tel["state"].eq("running").all()
