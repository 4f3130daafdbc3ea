"""Modbus register maps: plan few, contiguous reads and decode typed values from registers.

Pure. Registers are 16-bit words, big-endian inside the word (the Modbus rule); 32-bit
types span two registers whose order varies by vendor (``word_order``). A bit field is
``bits`` bits from ``bit`` of one register; a string spans ``length`` registers of two
characters each (``byte_order`` says which byte comes first), ends at the first NUL and
is stripped of padding blanks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from contracts.errors import ContractError
from services.connectors.core.mapping import ModbusTag

#: Modbus exception codes (Modbus Application Protocol v1.1b3, 7) -> meaning and what to check.
EXCEPTIONS: dict[int, tuple[str, str]] = {
    1: ("illegal function", "the device does not serve this table; check table: holding/input/coil/discrete"),
    2: ("illegal data address", "check address (0-based: register 40001 is holding address 0) and the table"),
    3: ("illegal data value", "check the register count: lower max_registers_per_read"),
    4: ("server device failure", "the device reported an internal error (some servers answer this for an "
                                 "unknown unit id); check unit_id and the device"),
    5: ("acknowledge", "the device accepted a long request; it will answer later"),
    6: ("server device busy", "the device is busy; raise poll_interval_ms"),
    8: ("memory parity error", "the device's memory check failed; check the device"),
    10: ("gateway path unavailable", "the gateway has no route to this unit; check unit_id and the gateway config"),
    11: ("gateway target failed", "no answer from the device behind the gateway; check unit_id and that it is on"),
}


def explain_exception(code: int) -> str:
    """``"exception 11: gateway target failed — check unit_id ..."`` for a Modbus exception code."""
    meaning, hint = EXCEPTIONS.get(code, ("unknown exception", "see the device manual"))
    return f"Modbus exception {code}: {meaning} — {hint}"


WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "bool": 1}


def width(tag: ModbusTag) -> int:
    """Registers (or bits) ``tag`` spans."""
    return (tag.length or 1) if tag.type == "string" else WIDTH[tag.type]
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
            end = max(t.address + width(t) for t in current)
            same = (tag.unit_id, tag.table) == (first.unit_id, first.table)
            fits = tag.address + width(tag) - first.address <= max_count
            if not (same and fits and tag.address - end <= max_gap):
                blocks.append(_block(current))
                current = []
        current.append(tag)
    if current:
        blocks.append(_block(current))
    return blocks


def _block(tags: list[ModbusTag]) -> ReadBlock:
    start = tags[0].address
    end = max(t.address + width(t) for t in tags)
    return ReadBlock(tags[0].unit_id, tags[0].table, start, end - start, tuple(tags))


def decode(tag: ModbusTag, words: list[int]) -> float | str:
    """Typed value of ``tag`` from its registers (``words`` starts at the tag's address)."""
    n = width(tag)
    if len(words) < n:
        raise ContractError(f"{tag.machine} {tag.signal}: need {n} registers, got {len(words)}")
    if tag.type == "bool":  # coils / discrete inputs: one bit per address
        return 1.0 if words[0] else 0.0
    if tag.type == "string":
        return decode_string(words[:n], tag.byte_order)
    if tag.bit is not None:
        field = (int(words[0]) & 0xFFFF) >> tag.bit & ((1 << tag.bits) - 1)
        if tag.type == "int16" and tag.bits > 1 and field >> (tag.bits - 1):  # two's complement in the field
            field -= 1 << tag.bits
        return float(field)
    regs = list(words[:n])
    if n == 2 and tag.word_order == "little":
        regs.reverse()
    raw = b"".join(int(w & 0xFFFF).to_bytes(2, "big") for w in regs)
    value = float(struct.unpack(_FORMAT[tag.type], raw)[0])
    # a float32 holds about 7 significant digits: 47.3 is 47.29999923706055 as a double
    return float(f"{value:.7g}") if tag.type == "float32" else value


def decode_string(words: list[int], byte_order: str = "big") -> str:
    """Characters of registers: two per word, up to the first NUL, padding blanks stripped.
    Bytes that are not UTF-8 become U+FFFD (a PLC string is usually ASCII or GB2312/Latin-1)."""
    raw = b"".join(int(w & 0xFFFF).to_bytes(2, "big" if byte_order == "big" else "little") for w in words)
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()


def encode_string(text: str, length: int, byte_order: str = "big") -> list[int]:
    """Registers holding ``text`` NUL-padded to ``length`` registers (the simulator's face and tests)."""
    raw = text.encode("utf-8")[: 2 * length].ljust(2 * length, b"\x00")
    order = "big" if byte_order == "big" else "little"
    return [int.from_bytes(raw[i:i + 2], order) for i in range(0, len(raw), 2)]


def encode(type_: str, value: float, word_order: str = "big") -> list[int]:
    """Registers holding ``value`` as ``type_`` (used by the simulator's Modbus face and tests)."""
    number = value if type_ == "float32" else int(round(value))
    raw = struct.pack(_FORMAT[type_], number)
    regs = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    return list(reversed(regs)) if word_order == "little" and len(regs) == 2 else regs


def decode_block(block: ReadBlock, words: list[int]) -> list[tuple[ModbusTag, float | str]]:
    """Every tag of a block with its decoded raw value."""
    return [(tag, decode(tag, words[tag.address - block.address:])) for tag in block.tags]
