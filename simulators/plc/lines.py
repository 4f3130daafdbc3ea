"""What the PLC faces expose: the latest sample of every machine.

The faces only need ``LatestSamples``: the machine ids, each machine's signal names
and ``step()`` (advance one period, return the newest sample per machine). The physics
line (``simulators.physics.line.Line``) implements it; ``PacedLine`` wraps it so one face
period advances ``speed x period`` simulated seconds. ``SyntheticLine`` is a deterministic
stand-in without physics for the connector tests and the benchmark (``--grid``/``--synthetic``).

Every face also exposes the machine's production state as an integer tag
``machine_state`` coded by ``STATE_CODES`` (a mapping's ``kind: state`` tag decodes it).
"""

from __future__ import annotations

import math
import zlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from contracts.messages import MachineState, TelemetrySample
from contracts.plant import Plant

if TYPE_CHECKING:
    from simulators.physics.line import Line


STATE_TAG = "machine_state"
#: Production state -> integer code on the wire (0/1/2 as in the mapping docs' example).
STATE_CODES: dict[MachineState, int] = {MachineState.IDLE: 0, MachineState.RUNNING: 1, MachineState.DOWN: 2,
                                        MachineState.SETUP: 3, MachineState.MAINTENANCE: 4,
                                        MachineState.OFFLINE: 5}


def state_code(sample: TelemetrySample) -> int:
    """The ``machine_state`` tag value of a sample."""
    return STATE_CODES[MachineState(sample.state)]


@runtime_checkable
class LatestSamples(Protocol):
    """The minimal interface a PLC face reads."""

    def machine_ids(self) -> list[str]: ...

    def signals(self, machine_id: str) -> list[str]: ...

    def step(self) -> dict[str, TelemetrySample]: ...


class PacedLine:
    """A physics line seen by a PLC face: each ``step()`` advances ``sim_step_s`` simulated seconds.

    A face calls ``step()`` once per wall period, so ``sim_step_s = speed x period``.
    Between two machine samples ``step()`` returns the same samples again; faces publish
    a machine only when its sample time changed (report by exception).
    """

    def __init__(self, line: Line, sim_step_s: float) -> None:
        if sim_step_s <= 0:
            raise ValueError("sim_step_s must be > 0 (speed x period)")
        self.line = line
        self.sim_step_s = sim_step_s

    def machine_ids(self) -> list[str]:
        return self.line.machine_ids()

    def signals(self, machine_id: str) -> list[str]:
        return self.line.signals(machine_id)

    def step(self) -> dict[str, TelemetrySample]:
        self.line.step_until(self.line.now + timedelta(seconds=self.sim_step_s))
        latest = {mid: self.line.latest(mid) for mid in self.line.machine_ids()}
        return {mid: s for mid, s in latest.items() if s is not None}


class SyntheticLine:
    """Deterministic values per machine and signal.

    ``wave``: a slow sine inside the sensor's normal range (looks like a running line).
    ``ramp``: every signal equals the tick number and ``program`` is ``P<tick>``, so tests can check
    order, scaling and string decoding exactly.
    """

    def __init__(self, signals: dict[str, list[str]], pattern: Literal["wave", "ramp"] = "wave",
                 ranges: dict[tuple[str, str], tuple[float, float]] | None = None,
                 period_s: float = 1.0, start: datetime | None = None) -> None:
        self._signals = signals
        self.pattern = pattern
        self._ranges = ranges or {}
        self.period_s = period_s
        self.tick = 0
        self._t0 = start or datetime.now(UTC)

    @classmethod
    def from_plant(cls, plant: Plant, pattern: Literal["wave", "ramp"] = "wave", period_s: float = 1.0,
                   machines: list[str] | None = None) -> SyntheticLine:
        chosen = [m for m in plant.machines() if machines is None or m.id in machines]
        ranges = {(m.id, s.name): (s.normal_low, s.normal_high) for m in chosen for s in m.sensors}
        return cls({m.id: [s.name for s in m.sensors] for m in chosen}, pattern, ranges, period_s)

    @classmethod
    def grid(cls, machines: int, signals: int, pattern: Literal["wave", "ramp"] = "wave",
             period_s: float = 1.0) -> SyntheticLine:
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
        ts = datetime.now(UTC) if self.pattern == "wave" else self._t0 + timedelta(
            seconds=self.tick * self.period_s)
        program = f"P{self.tick:04d}" if self.pattern == "ramp" else None  # ramp: the tick as text too
        return {mid: TelemetrySample(machine_id=mid, ts=ts, seq=self.tick, source="sim",
                                     state=MachineState.RUNNING, program=program,
                                     signals={s: self.value(mid, s, self.tick) for s in sigs})
                for mid, sigs in self._signals.items()}
