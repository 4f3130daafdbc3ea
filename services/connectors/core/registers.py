"""Modbus register maps: plan few, contiguous reads and decode typed values from registers.

Pure. Registers are 16-bit words, big-endian inside the word (the Modbus rule); 32-bit
types span two registers whose order varies by vendor (``word_order``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from contracts.errors import ContractError
from services.connectors.core.mapping import ModbusTag

WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}
_FORMAT = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f"}


@dataclass(frozen=True)
class ReadBlock:
    """One read request: ``count`` registers of one table of one unit from ``address``."""

    unit_id: int
    table: str
    address: int
    count: int
    tags: tuple[ModbusTag, ...]


def plan_reads(tags: list[ModbusTag], max_count: int = 125, max_gap: int = 8) -> list[ReadBlock]:
    """Group tags into contiguous reads; small gaps (<= ``max_gap`` unused registers) are read through
    because one request is cheaper than two on a PLC's scan cycle."""
    blocks: list[ReadBlock] = []
    keyed = sorted(tags, key=lambda t: (t.unit_id, t.table, t.address))
    current: list[ModbusTag] = []
    for tag in keyed:
        if current:
            first = current[0]
            end = max(t.address + WIDTH[t.type] for t in current)
            same = (tag.unit_id, tag.table) == (first.unit_id, first.table)
            fits = tag.address + WIDTH[tag.type] - first.address <= max_count
            if not (same and fits and tag.address - end <= max_gap):
                blocks.append(_block(current))
                current = []
        current.append(tag)
    if current:
        blocks.append(_block(current))
    return blocks


def _block(tags: list[ModbusTag]) -> ReadBlock:
    start = tags[0].address
    end = max(t.address + WIDTH[t.type] for t in tags)
    return ReadBlock(tags[0].unit_id, tags[0].table, start, end - start, tuple(tags))


def decode(tag: ModbusTag, words: list[int]) -> float:
    """Typed value of ``tag`` from its registers (``words`` starts at the tag's address)."""
    width = WIDTH[tag.type]
    if len(words) < width:
        raise ContractError(f"{tag.machine} {tag.signal}: need {width} registers, got {len(words)}")
    regs = list(words[:width])
    if width == 2 and tag.word_order == "little":
        regs.reverse()
    raw = b"".join(int(w & 0xFFFF).to_bytes(2, "big") for w in regs)
    return float(struct.unpack(_FORMAT[tag.type], raw)[0])


def encode(type_: str, value: float, word_order: str = "big") -> list[int]:
    """Registers holding ``value`` as ``type_`` (used by the simulator's Modbus face and tests)."""
    number = value if type_ == "float32" else int(round(value))
    raw = struct.pack(_FORMAT[type_], number)
    regs = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    return list(reversed(regs)) if word_order == "little" and len(regs) == 2 else regs


def decode_block(block: ReadBlock, words: list[int]) -> list[tuple[ModbusTag, float]]:
    """Every tag of a block with its decoded raw value."""
    return [(tag, decode(tag, words[tag.address - block.address:])) for tag in block.tags]
