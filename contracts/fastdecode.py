"""Fast decode path for ``linewatch.telemetry.v1``: msgspec, with the rules of the model.

``fast_telemetry(raw)`` returns a ``TelemetrySample`` when the record is in the plain shape
LineWatch producers write (canonical ISO 8601 ``ts`` string, JSON numbers, known fields)
and passes every rule of ``TelemetrySample``; it returns ``None`` for anything else, and
``Topic.decode`` then runs the pydantic model, which either accepts the record (pydantic is
more lenient about shapes, e.g. a numeric ``ts``) or rejects it with its usual message.
So a rejected record always gets exactly the model's dead-letter reason, and an accepted
record equals what the model builds: the fast path only skips work, it never decides
differently (``tests/contract/test_fastdecode.py`` checks both over valid and mutated
corpora). Figures: ``bench/results/decode.json`` (``python -m bench decode``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from contracts.messages import (
    MACHINE_ID_PATTERN,
    MAX_SEQ,
    MAX_SIGNALS,
    MAX_TEXT,
    SIGNAL_NAME_PATTERN,
    TS_MAX,
    TS_MIN,
    MachineState,
    Quality,
    TelemetrySample,
)


def _anchored(pattern: str) -> str:
    # Python's ``$`` also matches before a trailing newline, pydantic's (Rust) regex does
    # not: ``\Z`` is the end of the string only.
    return pattern.removesuffix("$") + r"\Z"


_Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
# The canonical ISO 8601 form ``Topic.encode`` writes; ASCII digits only; parsed below.
_TS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
                 ).fullmatch
_MACHINE = re.compile(_anchored(MACHINE_ID_PATTERN)).match
_SIGNAL = re.compile(_anchored(SIGNAL_NAME_PATTERN)).match


class _Names:
    """Names already checked against their pattern: a subset test instead of a regex per name."""

    def __init__(self, match: Callable[[str], object], cap: int = 50_000) -> None:
        self.ok: set[str] = set()
        self._match, self._cap = match, cap

    def valid(self, names: Iterable[str]) -> bool:
        fresh = [n for n in names if n not in self.ok]
        if not all(self._match(n) for n in fresh):
            return False
        if len(self.ok) + len(fresh) > self._cap:  # bounded: hostile streams of new names
            self.ok.clear()
        self.ok.update(fresh)
        return True


_machines, _signals = _Names(_MACHINE), _Names(_SIGNAL)


class _Wire(msgspec.Struct, forbid_unknown_fields=True):
    machine_id: str
    ts: str
    seq: Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
    signals: Annotated[dict[str, float | None], msgspec.Meta(max_length=MAX_SIGNALS)]
    schema_version: Literal[1] = 1
    quality: Annotated[dict[str, Quality], msgspec.Meta(max_length=MAX_SIGNALS)] = {}
    state: MachineState = MachineState.RUNNING
    program: _Text | None = None
    tool_id: _Text | None = None
    part_id: _Text | None = None
    source: _Text = "sim"


_decoder = msgspec.json.Decoder(_Wire)
_UTC = UTC
_new = object.__new__
_set = object.__setattr__
_ALL_FIELDS = frozenset(TelemetrySample.model_fields)


def _ts(text: str) -> datetime | None:
    if not _TS(text):
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    offset = ts.utcoffset()
    if offset is None or abs(offset.total_seconds()) >= 86_400:
        return None
    ts = ts.astimezone(_UTC)
    return ts if TS_MIN <= ts < TS_MAX else None


def fast_telemetry(raw: bytes | str | None) -> TelemetrySample | None:
    """The decoded sample, or ``None`` to let the pydantic model decide (never raises)."""
    if raw is None:
        return None
    try:
        wire = _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    ts = _ts(wire.ts)
    if ts is None:
        return None
    signals = wire.signals
    if not (signals.keys() <= _signals.ok or _signals.valid(signals)):
        return None
    if wire.machine_id not in _machines.ok and not _machines.valid((wire.machine_id,)):
        return None
    for value in signals.values():
        if value is not None and not math.isfinite(value):
            return None
    sample = _new(TelemetrySample)  # what model_construct does, without its per-field overhead
    _set(sample, "__dict__", {
        "schema_version": 1, "machine_id": wire.machine_id, "ts": ts, "seq": wire.seq, "signals": signals,
        "quality": wire.quality, "state": wire.state, "program": wire.program, "tool_id": wire.tool_id,
        "part_id": wire.part_id, "source": wire.source})
    _set(sample, "__pydantic_fields_set__", set(_ALL_FIELDS))
    _set(sample, "__pydantic_extra__", None)
    _set(sample, "__pydantic_private__", None)
    return sample
