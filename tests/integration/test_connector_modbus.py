"""Modbus TCP connector against a real pymodbus server (the simulator's Modbus face) and Kafka."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_connector_support import Face, by_machine, connector, read_until, stop_all, wait_for

from contracts.messages import MachineState, Quality

pytestmark = pytest.mark.integration
MACHINES = {"line-b/m-0000": 1, "line-b/m-0001": 2}


# The face's holding registers per unit with 3 signals: 0..5 float32 signals, 6 state code, 7 status
# word (bit 0 running, bits 4..7 state code), 8..15 the program as 16 characters (simulators/plc/modbus_face.py).


def mapping(port: int) -> str:
    tags = ""
    for mid, unit in MACHINES.items():
        tags += f"""
      - {{machine: {mid}, signal: sensor000_c, unit_id: {unit}, table: holding, address: 0, type: float32}}
      - {{machine: {mid}, signal: sensor001_c, unit_id: {unit}, table: input, address: 1, type: int16, scale: 0.1}}
      - {{machine: {mid}, signal: state_code_count, unit_id: {unit}, table: holding, address: 7, bit: 4, bits: 4}}
      - {{machine: {mid}, signal: running_flag_count, unit_id: {unit}, table: holding, address: 7, bit: 0}}
      - {{machine: {mid}, signal: program, kind: text, unit_id: {unit}, table: holding, address: 8, type: string,
         length: 8}}"""
    # a register the device does not have: that block fails, the others go on
    tags += """
      - {machine: line-b/m-0000, signal: sensor002_c, unit_id: 1, table: holding, address: 500, type: int32}"""
    return f"""
sources:
  - name: sim-modbus
    protocol: modbus
    host: 127.0.0.1
    port: {port}
    poll_interval_ms: 200
    timeout_s: 1
    tags:{tags}
"""


def test_registers_decoded_scaled_and_survive_a_device_restart(kafka_settings, unique, tmp_path: Path) -> None:
    # The ramp ticks every 1.3 s while the connector polls every 0.2 s. With both at 0.2 s their phase
    # stayed locked: when a poll's two table reads straddled the tick, they straddled it on every poll,
    # and a busy CI run saw 14 of 22 samples one tick apart. Now a tick falls between the two reads
    # only when it lands in that gap (a few ms), a small share of polls whatever the phase.
    face = Face("modbus", "--grid", "2x3", "--pattern", "ramp", "--period", "1.3").start()
    topic = unique("telemetry")
    conn = connector(tmp_path, kafka_settings, mapping(face.port), topic)
    conn.start()
    connected = {"source": "sim-modbus"}
    try:
        read_until(kafka_settings, topic, lambda s: len(s) >= 10, 30)
        assert (conn.registry.get_sample_value("linewatch_connector_errors_total",
                                               {"protocol": "modbus", "kind": "read"}) or 0) >= 1
        face.stop()
        wait_for(lambda: conn.registry.get_sample_value("linewatch_connector_source_connected", connected) == 0,
                 20, "loss detected")
        face.start()
        wait_for(lambda: (conn.registry.get_sample_value("linewatch_connector_reconnects_total", connected)
                          or 0) >= 1, 60, "reconnect")
        count = len(read_until(kafka_settings, topic, lambda s: False, 2))
        samples = read_until(kafka_settings, topic, lambda s: len(s) >= count + 10, 30)
    finally:
        stop_all(conn.stop, face.stop)
    per_machine = by_machine(samples)
    assert set(per_machine) == set(MACHINES)
    for mid, items in per_machine.items():
        assert [s.seq for s in items] == list(range(len(items)))
        states = [s.state for s in items]
        first_off = states.index(MachineState.OFFLINE)
        running = [s for s in items[first_off:] if s.state == MachineState.RUNNING]
        assert running, f"{mid}: no data after the device restart"
        same_tick = 0
        online = [s for s in items if s.state != MachineState.OFFLINE]
        for s in online:
            assert s.source == "modbus"
            # float32 holding register and int16 input register (x10, scale 0.1) both decode to the ramp's
            # whole tick. The two tables are read in separate Modbus requests (no atomic read across
            # tables), so a device update between them may put them one tick apart, never more: a wrong
            # scale (x10) or word order (garbage float) fails here.
            holding, scaled = s.signals["sensor000_c"], s.signals["sensor001_c"]
            assert holding == pytest.approx(round(holding)) and scaled == pytest.approx(round(scaled), abs=1e-6)
            assert abs(holding - scaled) <= 1 + 1e-6
            same_tick += holding == pytest.approx(scaled, abs=1e-6)
            # a bit field and a string from the same read as the float: same tick, decoded exactly
            assert s.signals["state_code_count"] == 1.0 and s.signals["running_flag_count"] == 1.0
            assert s.program == f"P{round(holding):04d}", (s.program, holding)
            if mid == "line-b/m-0000":
                assert s.signals["sensor002_c"] is None and s.quality["sensor002_c"] == Quality.BAD
        assert same_tick >= len(online) / 2, (f"{mid}: tables disagree in {len(online) - same_tick}/{len(online)} "
                                              "samples")


def test_a_wrong_unit_id_is_offline_never_running_and_not_connected(kafka_settings, unique, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Issue 16: with a wrong unit id every signal was null but the sample said running and
    source_connected stayed 1."""
    face = Face("modbus", "--grid", "2x3", "--pattern", "ramp", "--period", "0.2").start()
    topic = unique("telemetry")
    wrong = mapping(face.port).replace("unit_id: 1,", "unit_id: 17,").replace("unit_id: 2,", "unit_id: 18,")
    conn = connector(tmp_path, kafka_settings, wrong, topic)
    caplog.set_level("ERROR", logger="linewatch.connectors.modbus")
    conn.start()
    connected = {"source": "sim-modbus"}
    try:
        samples = read_until(kafka_settings, topic, lambda s: sum(x.machine_id == "line-b/m-0000" for x in s) >= 3
                             and sum(x.machine_id == "line-b/m-0001" for x in s) >= 3, 40)
        wait_for(lambda: conn.registry.get_sample_value("linewatch_connector_source_connected", connected) == 0,
                 20, "source_connected 0 while no block answers")
    finally:
        stop_all(conn.stop, face.stop)
    assert {s.machine_id for s in samples} == set(MACHINES)
    assert all(s.state == MachineState.OFFLINE for s in samples), [s.state for s in samples]
    assert all(v is None for s in samples for v in s.signals.values())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    # pymodbus answers an unknown unit with exception 4; a gateway would say 10 or 11 (unit tests)
    # one block: the float, the status word and the 8 string registers (holding 0..15)
    assert "unit 17 holding 0..15 refused: Modbus exception 4: server device failure" in logged
    assert "check unit_id" in logged
    assert logged.count("unit 17 holding 0..15 refused") == 1, "logged once per failure streak"
