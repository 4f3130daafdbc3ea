"""Modbus register planning and typed decoding."""

from __future__ import annotations

import pytest

from services.connectors.core.mapping import ModbusTag
from services.connectors.core.registers import decode, decode_block, encode, plan_reads


def mtag(address: int, type_: str = "uint16", **kw) -> ModbusTag:
    return ModbusTag(machine="line-1/cnc-01", signal=f"s{address}_c", address=address, type=type_, **kw)


@pytest.mark.parametrize("type_,value", [("int16", -1234), ("uint16", 65000), ("int32", -70000),
                                         ("uint32", 4_000_000_000), ("float32", 3.5)])
@pytest.mark.parametrize("order", ["big", "little"])
def test_round_trip_every_type_and_word_order(type_: str, value: float, order: str) -> None:
    assert decode(mtag(0, type_, word_order=order), encode(type_, value, order)) == pytest.approx(value)


def test_word_order_matters_for_32_bit() -> None:
    words = encode("float32", 1.5, "big")
    assert decode(mtag(0, "float32", word_order="little"), words) != pytest.approx(1.5)


def test_plan_merges_near_tags_and_splits_far_units_tables() -> None:
    tags = [mtag(0, "float32"), mtag(2), mtag(6), mtag(100), mtag(0, table="input"), mtag(0, unit_id=2)]
    blocks = plan_reads(tags, max_count=125)
    spans = [(b.unit_id, b.table, b.address, b.count) for b in blocks]
    assert spans == [(1, "holding", 0, 7), (1, "holding", 100, 1), (1, "input", 0, 1), (2, "holding", 0, 1)]


def test_plan_respects_the_per_read_limit_and_decodes_offsets() -> None:
    tags = [mtag(a) for a in range(0, 10)]
    blocks = plan_reads(tags, max_count=4)
    assert [b.count for b in blocks] == [4, 4, 2]
    values = decode_block(blocks[1], [40, 50, 60, 70])
    assert [(t.address, v) for t, v in values] == [(4, 40.0), (5, 50.0), (6, 60.0), (7, 70.0)]


@pytest.mark.parametrize("order", ["big", "little"])
def test_strings_round_trip_stop_at_nul_and_drop_padding(order: str) -> None:
    from services.connectors.core.registers import encode_string

    tag = ModbusTag(machine="line-1/cnc-01", signal="program", kind="text", address=0, type="string", length=5,
                    byte_order=order)
    assert decode(tag, encode_string("O1001 ", 5, order)) == "O1001"
    assert decode(tag, encode_string("AB", 5, order)) == "AB"  # NUL-padded
    words = encode_string("PART-7X", 5, "big")
    assert decode(tag, words) == ("PART-7X" if order == "big" else "APTR7-")  # a wrong byte order shows


def test_bit_fields_of_a_status_word() -> None:
    word = 0b1010_0110_0011_0101  # bits 8..11 = 0110, bits 4..7 = 0011, bit 0 = 1
    assert decode(mtag(0, bit=8, bits=4), [word]) == 6.0
    assert decode(mtag(0, bit=4, bits=4), [word]) == 3.0
    assert decode(mtag(0, bit=0), [word]) == 1.0
    assert decode(mtag(0, bit=12, bits=4), [word]) == 10.0
    assert decode(mtag(0, "int16", bit=12, bits=4), [word]) == -6.0  # a signed field: two's complement


def test_plan_counts_string_registers() -> None:
    text = ModbusTag(machine="line-1/cnc-01", signal="program", kind="text", address=10, type="string", length=8)
    blocks = plan_reads([mtag(0, "float32"), text, mtag(30)], max_count=125)
    assert [(b.address, b.count) for b in blocks] == [(0, 18), (30, 1)]
    values = decode_block(blocks[0], [0] * 10 + [0x5031, 0x3233] + [0] * 6)
    assert values[1] == (text, "P123")


@pytest.mark.parametrize("fields,message", [
    ({"type": "string", "kind": "text", "signal": "program"}, "type string needs length"),
    ({"type": "string", "signal": "name_c", "length": 4}, "type string is for kind: text"),
    ({"type": "uint16", "kind": "text", "signal": "program"}, "kind text reads characters"),
    ({"type": "string", "kind": "text", "signal": "serial_no", "length": 4}, "must be one of program, tool_id"),
    ({"bits": 4}, "bits (the width of a bit field) needs bit"),
    ({"bit": 14, "bits": 4}, "bit field 14..17 does not fit a 16-bit register"),
    ({"type": "float32", "length": 2}, "length is for type string"),
])
def test_mapping_errors_for_strings_and_bit_fields_name_the_fix(fields: dict, message: str) -> None:
    from pydantic import ValidationError

    base = {"machine": "line-1/cnc-01", "signal": "s0_c", "address": 0}
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ModbusTag(**{**base, **fields})
