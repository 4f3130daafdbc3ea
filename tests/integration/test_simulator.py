"""The simulator against the real broker: it streams, and it obeys a maintenance command."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from statistics import mean

from kafka import KafkaConsumer
from prometheus_client import CollectorRegistry

from contracts import COMMANDS, DEADLETTER, EVENTS, TELEMETRY, MachineState, MaintenanceCommand
from contracts.plant import Plant, load_plant
from runtime.admin import ensure_topics
from runtime.producer import Producer
from simulators import publisher
from simulators.physics.line import DEFAULT_START, Line
from simulators.physics.machine import Production
from simulators.physics.sensors import FaultRates

DEMO = Path(__file__).resolve().parents[2] / "simulators" / "plants" / "demo.yaml"


def small_plant(prefix: str) -> Plant:
    data = load_plant(DEMO).model_dump()
    data["id"] = prefix
    for i, line in enumerate(data["lines"]):
        line["id"] = f"{prefix}-{i + 1}"
        line["machines"] = [{**m, "id": m["id"].split("/")[1]} for m in line["machines"][:1]]
    return Plant.model_validate(data)


def read_all(settings, topics, wanted, group: str, until, timeout_s: float = 120.0) -> list:
    consumer = KafkaConsumer(*[t.name for t in topics], group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, **settings.client_kwargs())
    by_name = {t.name: t for t in topics}
    got: list = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not until(got):
            for recs in consumer.poll(timeout_ms=500).values():
                for r in recs:
                    if r.key is not None and r.key.decode() in wanted:
                        got.append(by_name[r.topic].decode(r.value))
    finally:
        consumer.close()
    return got


def test_streams_and_obeys_a_maintenance_command(kafka_settings, unique) -> None:
    prefix = unique("sim")
    plant = small_plant(prefix)
    cnc, rob = f"{prefix}-1/cnc-01", f"{prefix}-2/robot-01"
    ensure_topics(kafka_settings)
    line = Line(plant, seed=11, faults=FaultRates.off(),
                production=Production(idle_every_h=1e9, batch_parts={"cnc": 10**6, "robot": 10**6}))
    line.machines[cnc].physics.clog = 0.85  # a clogged coolant filter: low pressure and flow
    line.machines[cnc].physics.clog_rate = 1e-9
    ready, stop = threading.Event(), threading.Event()
    until = DEFAULT_START + timedelta(hours=6)
    registry = CollectorRegistry()
    metrics = publisher.SimMetrics.create(registry)
    worker = threading.Thread(target=publisher.run, args=(line, kafka_settings, 1200.0, until, stop, metrics),
                              kwargs={"ready": ready, "group_id": unique("linewatch-simulator")})
    began = time.monotonic()
    worker.start()
    try:
        assert ready.wait(60), "command consumer never got its partitions"
        with Producer(kafka_settings) as prod:
            prod.send(COMMANDS, MaintenanceCommand(command_id=f"{prefix}-ok", machine_id=cnc, ts=DEFAULT_START,
                                                   action="service_coolant", component="coolant_system",
                                                   reason="predictive"))
            prod.send(COMMANDS, MaintenanceCommand(command_id=f"{prefix}-bad", machine_id=cnc, ts=DEFAULT_START,
                                                   action="replace_reducer", component="reducer"))
        worker.join(timeout=120)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert time.monotonic() - began >= 0.95 * 6 * 3600 / 1200  # paced by the speed factor, not faster
    assert registry.get_sample_value("linewatch_sim_samples_total") == 2 * 6 * 60
    assert registry.get_sample_value("linewatch_sim_commands_total", {"outcome": "applied"}) == 1
    assert registry.get_sample_value("linewatch_sim_commands_total", {"outcome": "rejected"}) == 1
    assert registry.get_sample_value("linewatch_sim_time_seconds") == until.timestamp()

    n_expected = 2 * 6 * 60

    def complete(got: list) -> bool:  # telemetry and events are separate topics: wait for both
        kinds = {(m.kind, m.machine_id) for m in got if hasattr(m, "kind")}
        return (sum(1 for m in got if hasattr(m, "signals")) >= n_expected
                and {("part_completed", rob), ("maintenance_done", cnc)} <= kinds)

    msgs = read_all(kafka_settings, [TELEMETRY, EVENTS], {cnc, rob}, unique("check"), complete)
    samples = sorted((m for m in msgs if hasattr(m, "signals")), key=lambda s: s.ts)
    events = [m for m in msgs if hasattr(m, "kind")]
    assert len([s for s in samples if s.machine_id == rob]) == 6 * 60
    cnc_samples = [s for s in samples if s.machine_id == cnc]
    assert len(cnc_samples) == 6 * 60
    assert any(e.kind == "part_completed" and e.machine_id == rob for e in events)

    done = [e for e in events if e.kind == "maintenance_done" and e.machine_id == cnc]
    assert len(done) == 1 and done[0].command_id == f"{prefix}-ok" and done[0].planned
    assert done[0].action == "service_coolant" and done[0].reason == "predictive"
    maint = [s for s in cnc_samples if s.state == MachineState.MAINTENANCE]
    assert len(maint) == 59  # one planned hour: the last minute's sample already shows running
    first, last = maint[0].ts, maint[-1].ts
    before = [s.signals["coolant_pressure_bar"] for s in cnc_samples if s.ts < first and s.state == "running"]
    after = [s.signals["coolant_pressure_bar"] for s in cnc_samples if s.ts > last and s.state == "running"]
    assert before and len(after) > 10
    assert mean(before) < 7.0 < 9.0 < mean(after)  # the clogged filter's effect is gone

    dead = read_all(kafka_settings, [DEADLETTER], {cnc}, unique("dl"), lambda got: len(got) >= 1, timeout_s=20)
    assert dead and "does not apply to cnc" in dead[0].reason and dead[0].source_topic == COMMANDS.name
