"""Per-machine sample windows and the bad-input policy for order and duplicates.

Each machine keeps its last ``capacity`` samples (``FeatureSpec.max_window`` plus the
rows of the batch being scored) in numpy ring buffers. Per-machine order holds on Kafka
(key = machine id), so ``MachineWindow.admit`` judges each sample against the newest one
kept (the *anchor*):

- same time, or older with a seq still in the window: a duplicate (a producer retry or a
  replay), dropped and counted;
- older than the anchor: ``OUT_OF_ORDER``, rejected with a reason (dead letter);
- its time moved more than ``OrderRules.max_jump_s`` further ahead of the anchor than its
  Kafka record time did (a sample stamped days ahead by a wrong clock or a corrupt
  field, while the plant's real time moved seconds): ``TIME_JUMP``, rejected with a
  reason, the anchor is not moved, so one such sample cannot make later ones "out of order";
- recovery: ``OrderRules.reanchor_after`` rejected samples in a row that agree with each
  other (times increasing, seq increasing by one, no jump between them) mean the anchor
  is the odd one out (a bad sample that got in, a clock set back or forward): the window
  drops its rows at or after the first of them and the last one is taken as the new
  anchor (``REANCHORED``); the earlier ones stay dead-lettered.

The same rules run in the state rebuild on the same records (the record time is in the
Kafka log), so a sample rejected live is rejected again when the window is replayed. A
replay starts without an anchor; until it has one, samples after the machine's newest
stored score plus ``max_jump_s`` (``ceiling``) are skipped, so a rejected sample at the
very start of the replayed range cannot become the anchor either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

import numpy as np

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Outcome(StrEnum):
    """What happened to one telemetry record (the ``outcome`` label of the metrics)."""

    OK = "ok"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    UNKNOWN_MACHINE = "unknown_machine"
    SENSOR_FAULT = "sensor_fault"  # kept and scored, absurd values removed
    REPLAYED = "replayed"  # read again to rebuild state after a restart, not scored again
    TIME_JUMP = "time_jump"  # far ahead of the machine's timeline (vs its record time): rejected
    REANCHORED = "reanchored"  # taken after rejected samples agreed on a new timeline (kept and scored)


#: Outcomes of ``MachineWindow.admit`` that reject the sample (dead letter), with their error type.
REJECTING = {Outcome.OUT_OF_ORDER: "OutOfOrder", Outcome.TIME_JUMP: "TimeJumpAhead"}


@dataclass(frozen=True)
class OrderRules:
    """Ordering recovery (``LINEWATCH_SCORING__MAX_JUMP_S`` / ``__REANCHOR_AFTER``)."""

    max_jump_s: float = 3600.0  # 0 = no jump rule
    reanchor_after: int = 3


class _Seen(NamedTuple):  # built per sample: a tuple is cheaper than a frozen dataclass
    ts: datetime
    seq: int
    record_ms: int


def _skew_s(s: _Seen) -> float | None:
    return None if s.record_ms <= 0 else s.ts.timestamp() - s.record_ms / 1000.0


def _jump_s(before: _Seen, after: _Seen) -> float:
    """How much further ahead of its record time ``after`` is than ``before`` (0 without record times)."""
    a, b = _skew_s(before), _skew_s(after)
    return 0.0 if a is None or b is None else b - a


def _fmt_s(seconds: float) -> str:
    return f"{seconds / 86_400:,.1f} days" if abs(seconds) >= 86_400 else f"{seconds:,.0f} s"


class MachineWindow:
    """The recent samples of one machine in numpy ring buffers (O(1) per sample).

    Each buffer is written twice (at ``i`` and ``i + capacity``), so the last ``k`` rows
    up to any recent row are one contiguous slice: a feature block is a view, not a copy.
    ``count`` is the number of rows appended so far; row ``n`` (0-based) is valid while
    ``count - n <= capacity``.
    """

    def __init__(self, signals: tuple[str, ...], capacity: int, rules: OrderRules | None = None) -> None:
        self.signals = signals
        self.rules = rules or OrderRules()
        self.capacity = capacity
        self._index = {name: i for i, name in enumerate(signals)}
        self.values = np.full((len(signals), 2 * capacity), np.nan)
        self.ts_ns = np.zeros(2 * capacity, dtype=np.int64)
        self.seqs = np.full(2 * capacity, -1, dtype=np.int64)
        self.record_ms = np.zeros(capacity, dtype=np.int64)  # Kafka record time per row (jump rule)
        self.count = 0
        self.low = 0  # rows below this were overwritten (ring) and are gone even after a re-anchor
        self._last_ts: datetime | None = None
        self._anchor: _Seen | None = None  # the newest kept sample
        self._run: list[_Seen] = []  # rejected samples in a row that agree with each other
        self.ceiling: datetime | None = None  # while rebuilding without an anchor: no sample after this

    @property
    def last_ts(self) -> datetime | None:
        return self._last_ts

    def check(self, ts: datetime, seq: int) -> Outcome:
        """OK if the sample is newer than the newest kept, else why it is dropped (no jump rule)."""
        if self._last_ts is None or ts > self._last_ts:
            return Outcome.OK
        return self._duplicate_or_late(ts, seq)

    def _duplicate_or_late(self, ts: datetime, seq: int) -> Outcome:
        kept = min(self.count - self.low, self.capacity)
        end = self.count % self.capacity + self.capacity
        if ts == self._last_ts or (kept > 0 and bool((self.seqs[end - kept:end] == seq).any())):
            return Outcome.DUPLICATE
        return Outcome.OUT_OF_ORDER

    def admit(self, ts: datetime, seq: int, record_ms: int = 0) -> tuple[Outcome, str]:
        """Judge a sample against the anchor (module docstring); (outcome, reason if rejected).

        ``OK`` and ``REANCHORED`` mean: append it now (a re-anchor has already dropped the
        rows at or after the first sample of the agreeing run)."""
        seen = _Seen(ts, seq, record_ms)
        anchor = self._anchor
        if anchor is None:
            if self.ceiling is not None and ts > self.ceiling:
                return Outcome.TIME_JUMP, (f"ts {ts.isoformat()} is after {self.ceiling.isoformat()}, the machine's "
                                           f"newest stored score plus LINEWATCH_SCORING__MAX_JUMP_S (state rebuild)")
            if self._run:
                self._run = []
            return Outcome.OK, ""
        rules = self.rules
        if ts > anchor.ts:
            jump = _jump_s(anchor, seen)
            if not rules.max_jump_s or jump <= rules.max_jump_s:
                if self._run:
                    self._run = []
                return Outcome.OK, ""
            outcome = Outcome.TIME_JUMP
            reason = (f"ts {ts.isoformat()} is {_fmt_s(ts.timestamp() - anchor.ts.timestamp())} after the "
                      f"machine's newest sample {anchor.ts.isoformat()} (seq {anchor.seq}) while its Kafka record "
                      f"time moved {_fmt_s((record_ms - anchor.record_ms) / 1000)}: {_fmt_s(jump)} ahead of the "
                      f"machine's timeline (limit {_fmt_s(rules.max_jump_s)}: LINEWATCH_SCORING__MAX_JUMP_S)")
        else:
            outcome = self._duplicate_or_late(ts, seq)
            if outcome is Outcome.DUPLICATE:
                return outcome, ""
            reason = (f"ts {ts.isoformat()} (seq {seq}) is not after the machine's newest sample "
                      f"{anchor.ts.isoformat()} (seq {anchor.seq})")
        run = self._run
        if run and run[-1].ts == ts and run[-1].seq == seq:
            return Outcome.DUPLICATE, ""
        tail = run[-1] if run else None
        if tail is not None and ts > tail.ts and seq == tail.seq + 1 and (
                not rules.max_jump_s or _jump_s(tail, seen) <= rules.max_jump_s):
            run.append(seen)
        else:
            run[:] = [seen]
        if len(run) >= rules.reanchor_after:
            self._truncate(run[0].ts)
            self._run = []
            return Outcome.REANCHORED, ""
        left = rules.reanchor_after - len(run)
        return outcome, (f"{reason}; {left} more in a row with seq +1 and no jump between them move the "
                         f"machine's timeline (LINEWATCH_SCORING__REANCHOR_AFTER={rules.reanchor_after})")

    def _truncate(self, ts: datetime) -> None:
        """Drop the newest rows at or after ``ts`` (never below ``low``)."""
        ns = (ts - _EPOCH) // _MICROSECOND * 1000
        while self.count > self.low and self.ts_ns[(self.count - 1) % self.capacity] >= ns:
            self.count -= 1
        if self.count > self.low:
            last = int(self.ts_ns[(self.count - 1) % self.capacity])
            self._last_ts = _EPOCH + timedelta(microseconds=last // 1000)
            i = (self.count - 1) % self.capacity
            self._anchor = _Seen(self._last_ts, int(self.seqs[i]), int(self.record_ms[i]))
        else:
            self._last_ts = self._anchor = None

    def append(self, ts: datetime, seq: int, signals: dict[str, float | None], running: bool = True,
               record_ms: int = 0) -> int:
        """Add a row (values NaN when ``running`` is False); returns its row number."""
        i = self.count % self.capacity
        j = i + self.capacity
        col = [np.nan] * len(self.signals)  # a list, written to both copies at once: cheaper than item writes
        if running:
            index = self._index
            for name, value in signals.items():
                k = index.get(name)
                if k is not None and value is not None:
                    col[k] = value
        self.values[:, i] = self.values[:, j] = col
        ns = (ts - _EPOCH) // _MICROSECOND * 1000
        self.ts_ns[i] = self.ts_ns[j] = ns
        self.seqs[i] = self.seqs[j] = seq
        self.record_ms[i] = record_ms
        self._last_ts = ts
        self._anchor = _Seen(ts, seq, record_ms)
        self.count += 1
        self.low = max(self.low, self.count - self.capacity)
        return self.count - 1

    def __len__(self) -> int:
        return self.count - self.low

    def block(self, row: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Values (signals x ``length``) and times (ns) of the ``length`` rows up to ``row``,
        NaN-padded in front when the machine has fewer rows (or lost some to a re-anchor);
        views where possible."""
        if row >= self.count or row < self.low:
            raise ValueError(f"row {row} is no longer (or not yet) in the buffer of {self.capacity} rows")
        end = row % self.capacity + self.capacity + 1
        have = min(row - self.low + 1, length)
        if have == length:
            return self.values[:, end - length:end], self.ts_ns[end - length:end]
        vals = np.full((len(self.signals), length), np.nan)
        vals[:, length - have:] = self.values[:, end - have:end]
        ts = np.full(length, self.ts_ns[end - have])
        ts[length - have:] = self.ts_ns[end - have:end]
        return vals, ts
