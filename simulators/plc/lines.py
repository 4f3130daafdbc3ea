"""What the PLC faces expose: the latest sample of every machine.

The faces only need ``LatestSamples``: the machine ids, each machine's signal names
and ``step()`` (advance one period, return the newest sample per machine). The
simulator's line publishes exactly that; ``SyntheticLine`` is a deterministic stand-in
used by tests, the benchmark and ``python -m simulators.plc`` without physics.
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime, timedelta, timezone
from typing import Literal, Protocol

from contracts.messages import MachineState, TelemetrySample
from contracts.plant import Plant


class LatestSamples(Protocol):
    """The minimal interface a PLC face reads."""

    def machine_ids(self) -> list[str]: ...

    def signals(self, machine_id: str) -> list[str]: ...

    def step(self) -> dict[str, TelemetrySample]: ...


class SyntheticLine:
    """Deterministic values per machine and signal.

    ``wave``: a slow sine inside the sensor's normal range (looks like a running line).
    ``ramp``: every signal equals the tick number, so tests can check order and scaling exactly.
    """

    def __init__(self, signals: dict[str, list[str]], pattern: Literal["wave", "ramp"] = "wave",
                 ranges: dict[tuple[str, str], tuple[float, float]] | None = None,
                 period_s: float = 1.0, start: datetime | None = None) -> None:
        self._signals = signals
        self.pattern = pattern
        self._ranges = ranges or {}
        self.period_s = period_s
        self.tick = 0
        self._t0 = start or datetime.now(timezone.utc)

    @classmethod
    def from_plant(cls, plant: Plant, pattern: Literal["wave", "ramp"] = "wave", period_s: float = 1.0,
                   machines: list[str] | None = None) -> "SyntheticLine":
        chosen = [m for m in plant.machines() if machines is None or m.id in machines]
        ranges = {(m.id, s.name): (s.normal_low, s.normal_high) for m in chosen for s in m.sensors}
        return cls({m.id: [s.name for s in m.sensors] for m in chosen}, pattern, ranges, period_s)

    @classmethod
    def grid(cls, machines: int, signals: int, pattern: Literal["wave", "ramp"] = "wave",
             period_s: float = 1.0) -> "SyntheticLine":
        """``machines`` x ``signals`` generic tags (benchmarks)."""
        names = [f"sensor{j:03d}_c" for j in range(signals)]
        return cls({f"line-b/m-{i:04d}": list(names) for i in range(machines)}, pattern, period_s=period_s)

    def machine_ids(self) -> list[str]:
        return list(self._signals)

    def signals(self, machine_id: str) -> list[str]:
        return list(self._signals[machine_id])

    def value(self, machine_id: str, signal: str, tick: int) -> float:
        if self.pattern == "ramp":
            return float(tick)
        low, high = self._ranges.get((machine_id, signal), (0.0, 100.0))
        phase = (zlib.crc32(f"{machine_id}/{signal}".encode()) % 628) / 100.0  # stable across runs
        return round(low + (high - low) * (0.5 + 0.35 * math.sin(tick / 30.0 + phase)), 4)

    def step(self) -> dict[str, TelemetrySample]:
        self.tick += 1
        ts = datetime.now(timezone.utc) if self.pattern == "wave" else self._t0 + timedelta(
            seconds=self.tick * self.period_s)
        return {mid: TelemetrySample(machine_id=mid, ts=ts, seq=self.tick, source="sim",
                                     state=MachineState.RUNNING,
                                     signals={s: self.value(mid, s, self.tick) for s in sigs})
                for mid, sigs in self._signals.items()}
