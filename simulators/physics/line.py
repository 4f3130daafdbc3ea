"""The simulated plant: every machine of a plant file, stepped together in simulated time.

Pure and deterministic: the same plant, seed and commands (at the same simulated times)
give the identical stream. Each machine draws from its own generator, seeded from the
run seed and its id, so adding a machine to the plant does not change the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

from contracts.errors import ContractError
from contracts.messages import MachineState, MaintenanceCommand, TelemetrySample
from contracts.plant import Plant
from simulators.physics.machine import Event, Production, SimMachine
from simulators.physics.sensors import FaultRates

DEFAULT_START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


class Line:
    """All machines of ``plant``; ``step_until(t)`` returns (samples, events) up to ``t``."""

    def __init__(self, plant: Plant, seed: int = 7, start: datetime = DEFAULT_START,
                 faults: FaultRates | None = None, production: Production | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        self.plant = plant
        self.seed = seed
        self.start = start.astimezone(UTC)
        self._now = self.start
        self.machines: dict[str, SimMachine] = {}
        self.events_backlog: list[Event] = []
        for m in plant.machines():
            rng = np.random.default_rng([seed, zlib.crc32(m.id.encode())])
            self.machines[m.id] = SimMachine(m, rng, self.start, seed, faults, production)

    @property
    def now(self) -> datetime:
        """Simulated time reached so far (every machine has ticked up to here)."""
        return self._now

    def apply(self, command: MaintenanceCommand) -> None:
        """Hand a maintenance command to its machine; ``ContractError`` if it does not fit the plant."""
        self.check(command)
        self.machines[command.machine_id].apply(command)

    def check(self, command: MaintenanceCommand) -> None:
        """Raise ``ContractError`` with the reason if the line cannot carry out ``command`` (no side effects)."""
        machine = self.machines.get(command.machine_id)
        if machine is None:
            raise ContractError(f"command {command.command_id}: unknown machine {command.machine_id!r}")
        machine.check(command)

    def step_until(self, t: datetime) -> tuple[list[TelemetrySample], list[Event]]:
        """Advance to ``t``; samples and events in time order (machines interleaved)."""
        samples: list[TelemetrySample] = []
        events: list[Event] = []
        for machine in self.machines.values():
            while machine.now + machine.period <= t:
                sample, evs = machine.tick()
                samples.append(sample)
                events.extend(evs)
        self._now = max(self._now, t)
        samples.sort(key=lambda s: s.ts)
        events.sort(key=lambda e: e.ts)
        return samples, events

    def run(self, until: datetime, chunk: timedelta = timedelta(hours=1)) -> Iterator[
            tuple[list[TelemetrySample], list[Event]]]:
        """Step to ``until`` in chunks of simulated time, yielding each chunk's output."""
        t = self._now
        while t < until:
            t = min(until, t + chunk)
            yield self.step_until(t)

    # --- the ``LatestSamples`` face the PLC adapters read (simulators/plc/lines.py) -------
    def machine_ids(self) -> list[str]:
        """Machine ids in plant-file order."""
        return list(self.machines)

    def signals(self, machine_id: str) -> list[str]:
        """Signal names of one machine, as declared in the plant file."""
        return [s.name for s in self.machines[machine_id].spec.sensors]

    def step(self) -> dict[str, TelemetrySample]:
        """Advance one sample period of the fastest machine; the newest sample per machine.

        Events of the period are kept in ``events_backlog`` for a caller that wants them.
        """
        period = min(m.period_s for m in self.machines.values())
        _, events = self.step_until(self._now + timedelta(seconds=period))
        self.events_backlog.extend(events)
        del self.events_backlog[:-10_000]  # bounded: a PLC face that never reads them must not grow
        return {mid: m.latest for mid, m in self.machines.items() if m.latest is not None}

    def latest(self, machine_id: str) -> TelemetrySample | None:
        """The machine's most recent sample (what a PLC face would show), None before the first."""
        return self.machines[machine_id].latest

    def states(self) -> dict[str, MachineState]:
        """Current production state of every machine."""
        return {mid: m.state for mid, m in self.machines.items()}

    def component_ages(self) -> dict[tuple[str, str], float]:
        """Running hours since fitting of every (machine, failure mode) component now: the plant's
        CMMS record a fixed-interval plan starts from. Read-only; not the degradation state."""
        return {(mid, mode): float(h) for mid, m in self.machines.items()
                for mode, h in m.physics.ages_h().items()}

    def hidden(self, machine_id: str) -> dict[str, float]:
        """True degradation state of a machine, for plots and tests: never published."""
        return self.machines[machine_id].physics.hidden()
