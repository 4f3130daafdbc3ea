"""End to end with the physics line: ``python -m simulators.plc opcua`` (physics Line, demo plant)
-> the OPC UA connector with the example mapping ``examples/mappings/line1-opcua.yaml``
-> real Kafka -> decoded telemetry with plausible values and the machine state tag."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from test_connector_support import ROOT, Face, by_machine, connector, read_until, stop_all, wait_for

from contracts.messages import MachineState
from contracts.plant import load_plant
from services.connectors.core.mapping import check_against_plant, load_mapping
from simulators.physics.line import DEFAULT_START
from simulators.plc.__main__ import build_line, parser

pytestmark = pytest.mark.integration
EXAMPLE = ROOT / "examples" / "mappings" / "line1-opcua.yaml"
MACHINES = ["line-1/cnc-01", "line-1/cnc-02", "line-1/cnc-03", "line-1/cnc-04"]
FACE_ARGS = ["--machines", ",".join(MACHINES), "--seed", "11", "--speed", "120", "--period", "0.5", "--no-faults"]
HEALTHY = {"tool_wear_vb_mm": 0.3, "bearing_damage": 0.3, "coolant_clog": 0.3}  # below these: normal ranges hold


def test_physics_line_through_opcua_into_kafka(kafka_settings, unique, tmp_path: Path) -> None:
    plant = load_plant(load_mapping(EXAMPLE).plant)
    check_against_plant(load_mapping(EXAMPLE), plant, EXAMPLE.name)
    # 120 simulated s per wall s, a face update every 0.5 s: one 60 s sample per machine per update
    face = Face("opcua", *FACE_ARGS).start()
    text = re.sub(r"opc\.tcp://127\.0\.0\.1:\d+/", f"opc.tcp://127.0.0.1:{face.port}/", EXAMPLE.read_text())
    topic = unique("telemetry")
    conn = connector(tmp_path, kafka_settings, text, topic)
    conn.start()
    try:
        wait_for(lambda: conn.runners[0].subscribed_items == 44, 30, "44 monitored items (4 x 10 signals + state)")
        samples = read_until(kafka_settings, topic, lambda s: all(
            sum(len(x.signals) == 10 for x in by_machine(s).get(m, [])) >= 4 for m in MACHINES), 40)
    finally:
        stop_all(conn.stop, face.stop)
    per_machine = by_machine(samples)
    assert set(per_machine) == set(MACHINES)
    # the same plant, seed and machines in-process: the stream is deterministic, so Kafka must carry its values
    twin = build_line(parser().parse_args(["opcua", "--port", "1", *FACE_ARGS])).line
    truth, healthy = {}, {}
    for sample in twin.step_until(max(s.ts for s in samples))[0]:
        truth[(sample.machine_id, sample.ts)] = sample
        healthy[(sample.machine_id, sample.ts)] = all(
            v < HEALTHY[k] for k, v in twin.hidden(sample.machine_id).items() if k in HEALTHY)
    deadband = {t.signal: t.deadband for t in load_mapping(EXAMPLE).sources[0].tags}
    in_range = 0
    for mid in MACHINES:
        items = per_machine[mid]
        assert [s.seq for s in items] == list(range(len(items))), f"{mid}: seq not contiguous"
        full = [s for s in items if len(s.signals) == 10]
        assert len(full) >= 4, f"{mid}: {len(full)} complete samples"
        stamps = [s.ts for s in items]
        assert stamps == sorted(stamps) and stamps[-1] > DEFAULT_START + timedelta(minutes=2)
        sensors = {s.name: s for s in plant.machine(mid).sensors}
        for s in full:
            assert s.source == "opcua"
            expected = truth[(mid, s.ts)]  # source timestamp = the simulated sample time
            assert s.state == expected.state
            for name, value in s.signals.items():
                assert value == pytest.approx(expected.signals[name], abs=deadband[name] + 1e-9), f"{mid} {name}"
            if s.state == MachineState.RUNNING and healthy[(mid, s.ts)]:
                in_range += 1
                for name, value in s.signals.items():
                    low, high = sensors[name].normal_low, sensors[name].normal_high
                    assert low <= value <= high, f"{mid} {name}={value} outside [{low}, {high}]"
    assert in_range >= 8, f"only {in_range} running samples of healthy machines to check against normal ranges"
