"""PLC alarms and states as events, bad-only sources, Modbus bits/coils and exception hints,
precision rounding — the pure core, every error path with its message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.errors import ConfigError
from contracts.messages import MachineState, Quality
from services.connectors.core.mapping import ModbusTag, parse_mapping
from services.connectors.core.registers import decode, explain_exception
from services.connectors.core.samples import SampleAssembler

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def tag(**kw: object) -> ModbusTag:
    return ModbusTag.model_validate({"machine": "line-1/cnc-01", "signal": "spindle_speed_rpm", "address": 0, **kw})


ALARM_WORD = tag(signal="alarm_word", kind="alarm", alarms={
    0: {"code": "E101", "text_en": "Coolant level low", "text_zh": "冷却液液位低", "severity": "high"},
    3: {"code": "E104", "text_en": "Door open", "text_zh": "防护门打开"}})


def test_alarm_bits_give_one_event_per_edge_and_nothing_for_repeats_or_dropouts() -> None:
    asm = SampleAssembler("modbus")
    words = [0, 0, 1, 1, 9, None, 9, 8, 0]
    for i, w in enumerate(words):
        asm.update(ALARM_WORD, w, T0 + timedelta(seconds=i), Quality.BAD if w is None else Quality.GOOD)
    edges = [(e.code, e.active, e.ts - T0) for e in asm.events()]
    assert edges == [("E101", True, timedelta(seconds=2)), ("E104", True, timedelta(seconds=4)),
                     ("E101", False, timedelta(seconds=7)), ("E104", False, timedelta(seconds=8))]
    assert asm.events() == []


def test_an_alarm_already_on_at_start_is_reported_once_and_texts_come_from_the_mapping() -> None:
    asm = SampleAssembler("opcua")
    boolean = tag(signal="coolant_low", kind="alarm", alarms={0: {"code": "E1", "text_en": "Low", "text_zh": "低"}})
    for _ in range(3):
        asm.update(boolean, True, T0)
    (event,) = asm.events()
    assert (event.kind, event.text, event.text_zh, event.active) == ("plc_alarm", "Low", "低", True)
    assert "alarm" not in str(asm.flush())  # alarm tags are events, never telemetry signals


def test_state_tag_changes_become_state_changed_but_not_the_first_reading_or_after_an_outage() -> None:
    asm = SampleAssembler("modbus")
    st = tag(signal="machine_state", kind="state", states={0: "idle", 1: "running", 2: "down"})
    asm.update(st, 0, T0)
    asm.update(st, 1, T0 + timedelta(seconds=1))
    asm.offline(["line-1/cnc-01"])
    asm.update(st, 2, T0 + timedelta(seconds=5))  # first reading after the outage: no change event
    asm.update(st, 0, T0 + timedelta(seconds=6))
    assert [(e.from_state, e.to_state) for e in asm.events()] == [
        (MachineState.IDLE, MachineState.RUNNING), (MachineState.DOWN, MachineState.IDLE)]


def test_a_machine_whose_values_are_all_bad_is_offline_never_running() -> None:
    asm = SampleAssembler("modbus")
    a, b = tag(signal="spindle_speed_rpm"), tag(signal="coolant_temp_c", address=1)
    asm.update(a, None, T0, Quality.BAD)
    asm.update(b, None, T0, Quality.BAD)
    (sample,) = asm.flush()
    assert sample.state == MachineState.OFFLINE and sample.quality == {"spindle_speed_rpm": "bad",
                                                                       "coolant_temp_c": "bad"}
    asm.update(a, 100, T0 + timedelta(seconds=1))
    assert asm.flush()[0].state == MachineState.RUNNING


def test_precision_and_default_rounding_remove_binary_noise() -> None:
    assert tag(scale=0.1).engineering(473) == 47.3  # 473 * 0.1 = 47.300000000000004 in binary
    assert tag(scale=0.1, precision=0).engineering(476) == 48.0
    assert decode(tag(type="float32"), [0x4239, 0x3333]) == 46.3  # float32 46.3 is 46.29999923706055


def test_bits_of_registers_and_coils_decode() -> None:
    assert [decode(tag(bit=b), [0b1010]) for b in range(4)] == [0.0, 1.0, 0.0, 1.0]
    assert decode(tag(table="coil", type="bool"), [True]) == 1.0


def test_modbus_exception_codes_are_translated_with_a_hint() -> None:
    assert explain_exception(11) == ("Modbus exception 11: gateway target failed — no answer from the device "
                                     "behind the gateway; check unit_id and that it is on")
    assert "check address (0-based: register 40001 is holding address 0)" in explain_exception(2)
    assert explain_exception(99).startswith("Modbus exception 99: unknown exception")
    assert "check unit_id" in explain_exception(4) and "check unit_id" in explain_exception(10)


@pytest.mark.parametrize("fields, message", [
    ("{table: coil, address: 0}", "table coil needs type bool"),
    ("{type: bool, address: 0}", "type bool is for table coil or discrete, not holding"),
    ("{type: float32, bit: 3, address: 0}", "bit is for 16-bit registers (type uint16/int16), not float32"),
    ("{kind: alarm, address: 0}", "a tag of kind 'alarm' needs an 'alarms' map"),
    ("{kind: alarm, address: 0, alarms: {40: {code: E, text_en: x}}}", "alarm bits must be 0..31, got [40]"),
    ("{kind: alarm, address: 0, alarms: {0: {code: E}}}", "sources[0].tags[0].alarms[0].text_en: Field required"),
    ("{address: 0, precision: 20}", "precision: Input should be less than or equal to 12"),
])
def test_mapping_errors_name_the_field_and_the_fix(fields: str, message: str) -> None:
    text = f"""
version: 1
sources:
  - name: m
    protocol: modbus
    host: 127.0.0.1
    tags:
      - {{machine: line-1/cnc-01, signal: spindle_speed_rpm, {fields[1:-1]}}}
"""
    with pytest.raises(ConfigError) as err:
        parse_mapping(text, "line1.yaml")
    assert message in str(err.value) and "line1.yaml:8:" in str(err.value)
