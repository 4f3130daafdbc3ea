"""Tag updates -> telemetry samples: scaling, deadband, quality, seq, offline, state codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.messages import MachineState, Quality
from services.connectors.core.mapping import OpcUaTag
from services.connectors.core.samples import SampleAssembler, opcua_quality, sparkplug_quality

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def tag(signal: str = "spindle_speed_rpm", **kw) -> OpcUaTag:
    return OpcUaTag(node="ns=2;s=x", machine="line-1/cnc-01", signal=signal, **kw)


def test_scale_offset_and_hold_latest_values() -> None:
    asm = SampleAssembler("opcua")
    asm.update(tag(scale=0.1, offset=5), 1000, T0)
    asm.update(tag("coolant_temp_c"), 21.5, T0 + timedelta(seconds=1))
    [s] = asm.flush()
    assert s.signals == {"spindle_speed_rpm": 105.0, "coolant_temp_c": 21.5}
    assert s.ts == T0 + timedelta(seconds=1) and s.seq == 0 and s.source == "opcua"
    asm.update(tag("coolant_temp_c"), 22.0, T0 + timedelta(seconds=2))
    [s2] = asm.flush()
    assert s2.seq == 1 and s2.signals["spindle_speed_rpm"] == 105.0
    assert asm.flush() == []  # nothing new: no sample


def test_deadband_suppresses_small_changes_only() -> None:
    asm = SampleAssembler("opcua")
    t = tag(deadband=5.0)
    assert asm.update(t, 100, T0)
    assert not asm.update(t, 103, T0)
    assert asm.update(t, 106, T0)
    assert asm.deadbanded == 1


def test_quality_and_non_finite_values() -> None:
    asm = SampleAssembler("opcua")
    asm.update(tag(), 1.0, T0, Quality.UNCERTAIN)
    asm.update(tag("coolant_temp_c"), float("nan"), T0)
    [s] = asm.flush()
    assert s.quality == {"spindle_speed_rpm": Quality.UNCERTAIN, "coolant_temp_c": Quality.BAD}
    assert s.signals["coolant_temp_c"] is None and asm.bad_values == 1


def test_offline_then_back_and_seq_survives_restart() -> None:
    asm = SampleAssembler("modbus", seqs={"line-1/cnc-01": 41})
    asm.update(tag(), 1.0, T0)
    asm.flush()
    [off] = asm.offline(["line-1/cnc-01"], T0 + timedelta(seconds=5))
    assert off.state == MachineState.OFFLINE and off.signals == {} and off.seq == 43
    assert asm.offline(["line-1/cnc-01"]) == []  # already offline: no repeat
    asm.update(tag(), 2.0, T0 + timedelta(seconds=6))
    [back] = asm.flush()
    assert back.state == MachineState.RUNNING and back.seq == 44


def test_state_codes_map_to_machine_state() -> None:
    asm = SampleAssembler("opcua")
    state_tag = OpcUaTag(node="ns=2;s=s", machine="line-1/cnc-01", signal="machine_state", kind="state",
                         states={0: MachineState.IDLE, 1: MachineState.RUNNING, 2: MachineState.DOWN})
    asm.update(state_tag, 2, T0)
    assert asm.flush()[0].state == MachineState.DOWN
    assert not asm.update(state_tag, 9, T0)  # unknown code: counted, not applied
    assert asm.bad_values == 1


def test_quality_code_mappings() -> None:
    assert opcua_quality(0) == Quality.GOOD
    assert opcua_quality(0x40000000) == Quality.UNCERTAIN
    assert opcua_quality(0x80340000) == Quality.BAD
    assert [sparkplug_quality(c) for c in (None, 192, 100, 0)] == [Quality.GOOD, Quality.GOOD, Quality.UNCERTAIN,
                                                                   Quality.BAD]


def test_a_text_tag_fills_the_program_and_an_offline_sample_drops_it() -> None:
    from services.connectors.core.mapping import ModbusTag
    from services.connectors.core.samples import SampleAssembler

    text = ModbusTag(machine="line-1/cnc-01", signal="program", kind="text", address=0, type="string", length=4)
    speed = ModbusTag(machine="line-1/cnc-01", signal="spindle_speed_rpm", address=10)
    asm = SampleAssembler("modbus")
    assert asm.update(speed, 100, None) and asm.update(text, "O1001", None)
    first = asm.flush()[0]
    assert first.program == "O1001" and first.signals == {"spindle_speed_rpm": 100.0}
    assert not asm.update(text, "O1001", None)  # unchanged: nothing new to send
    assert asm.update(speed, 3.5, None) and asm.update(text, "", None)  # an empty string: no program
    assert asm.flush()[0].program is None
    assert asm.update(speed, "garbage", None)  # a string read for a number tag: bad, never a crash
    odd = asm.flush()[0]
    assert odd.signals["spindle_speed_rpm"] is None and odd.quality["spindle_speed_rpm"] == "bad"
    offline = asm.offline(["line-1/cnc-01"])[0]
    assert offline.program is None and offline.signals == {}
