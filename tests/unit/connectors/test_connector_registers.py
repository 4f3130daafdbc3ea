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
