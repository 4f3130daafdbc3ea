"""One simulated machine: production states, parts, failures, maintenance, telemetry.

Wraps a physics core (:mod:`cnc` or :mod:`robot`) with the production side: running,
idle (waiting for material), setup (program change), down (failed, waiting for repair)
and maintenance (a planned action from a command). Emits only ``contracts`` messages,
with deterministic ids. Each :meth:`SimMachine.tick` covers one sample period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from contracts.errors import ConfigError, ContractError
from contracts.messages import (
    FailureOccurred,
    MachineState,
    MaintenanceCommand,
    MaintenanceDone,
    PartCompleted,
    StateChanged,
    TelemetrySample,
)
from contracts.plant import ACTIONS, FAILURE_MODES, MODE_ACTION, MODE_COMPONENT, Machine
from simulators.physics.cnc import CncParams, CncPhysics
from simulators.physics.robot import RobotParams, RobotPhysics
from simulators.physics.sensors import FaultRates, SensorBank

Event = PartCompleted | FailureOccurred | MaintenanceDone | StateChanged

_new = object.__new__
_set = object.__setattr__


def _template(cls: type) -> dict[str, object]:
    """Every field of ``cls`` in model order: its default, or ``None`` where the simulator must give it."""
    fields = cls.model_fields  # type: ignore[attr-defined]
    return {n: None if f.is_required() or f.default_factory is not None else f.default for n, f in fields.items()}


_FIELDS = {cls: _template(cls) for cls in (TelemetrySample, PartCompleted, FailureOccurred, MaintenanceDone,
                                            StateChanged)}


def _built(cls: type, **values: object):  # -> cls
    """A contract message from values the simulator already made valid (aware UTC times, floats,
    enums; every required field and every field with a default factory given), without pydantic's
    validation: what ``model_construct`` does, minus its overhead. Validating each sample and
    part was about a third of a simulated tick; the object is the same as the validated one
    (``tests/unit/simulators/test_fast_messages.py`` re-validates every message of a run)."""
    fields = _FIELDS[cls].copy()  # every field in model order, defaults filled in
    fields.update(values)
    msg = _new(cls)
    _set(msg, "__dict__", fields)
    _set(msg, "__pydantic_fields_set__", set(values))
    _set(msg, "__pydantic_extra__", None)
    _set(msg, "__pydantic_private__", None)
    return msg


@dataclass(frozen=True)
class Production:
    """Production-side parameters (not wear): idle spells, batch sizes and setups."""

    idle_every_h: float = 5.0      # mean running hours between waits for material
    idle_mean_h: float = 0.3
    batch_parts: dict[str, int] = field(default_factory=lambda: {"cnc": 60, "robot": 600})
    setup_h: dict[str, float] = field(default_factory=lambda: {"cnc": 0.5, "robot": 0.25})


def build_physics(machine: Machine, rng: np.random.Generator) -> CncPhysics | RobotPhysics:
    """The physics core for a plant machine, with its ``sim:`` overrides applied."""
    if machine.kind == "cnc":
        return CncPhysics(CncParams().with_overrides(machine.sim, machine.id), rng)
    return RobotPhysics(RobotParams().with_overrides(machine.sim, machine.id), rng)


def ambient_c(ts: datetime) -> float:
    """Workshop air: 22 °C with a daily swing peaking mid-afternoon (UTC+8 plant)."""
    hour = (ts.timestamp() / 3600.0 + 8.0) % 24.0
    return 22.0 + 3.0 * math.sin(2.0 * math.pi * (hour - 9.0) / 24.0)


class SimMachine:
    """A machine's production state machine around its physics core."""

    def __init__(self, machine: Machine, rng: np.random.Generator, start: datetime, seed: int,
                 faults: FaultRates | None = None, production: Production | None = None) -> None:
        self.spec = machine
        self.id = machine.id
        self.period_s = machine.sample_period_s
        self.period = timedelta(seconds=self.period_s)  # one tick (the line steps by it)
        self._rng = rng
        self.physics = build_physics(machine, rng)
        unknown = [s.name for s in machine.sensors if s.name not in self.physics.signals]
        if unknown:
            raise ConfigError(f"{machine.id}: sensors {unknown} are not simulated for kind {machine.kind!r}; "
                                f"known: {sorted(self.physics.signals)}")
        self._every = {s.name: max(1, round(s.sample_period_s / self.period_s)) for s in machine.sensors}
        self._slow_sensors = any(k > 1 for k in self._every.values())
        self._short_id = machine.id.split("/")[1]
        nominal = self.physics.true_signals(True, 22.0)
        self.sensors = SensorBank([s.name for s in machine.sensors], self.physics.signals, nominal,
                                  faults or FaultRates(), rng, self.period_s)
        self.prod = production or Production()
        self.now = start
        self.seq = 0
        self.state = MachineState.RUNNING
        self._left_h = 0.0                      # time left in idle/setup/down/maintenance
        self._pending: list[MaintenanceCommand] = []
        self._job: tuple[str, bool, str, str | None, float] | None = None  # mode, planned, reason, cmd, hours
        self._prefix = f"{machine.id}:s{seed}"
        self._n = {"part": 0, "failure": 0, "maint": 0, "state": 0}
        program_names = list(self.physics.programs)
        self.program = program_names[int(rng.integers(len(program_names)))]
        self._batch_left = int(rng.integers(1, self.prod.batch_parts[machine.kind]))
        self._part_done_s = 0.0
        self._part_cycle_s = self._new_cycle()
        self.latest: TelemetrySample | None = None

    # --- commands -----------------------------------------------------------------------
    def apply(self, command: MaintenanceCommand) -> None:
        """Queue a maintenance command; it starts at the next tick the machine is not down."""
        self.check(command)
        self._pending.append(command)

    def check(self, command: MaintenanceCommand) -> None:
        """Raise ``ContractError`` with the reason if this machine cannot carry out ``command``."""
        if command.machine_id != self.id:
            raise ContractError(f"command {command.command_id}: for {command.machine_id}, not {self.id}")
        mode = ACTIONS.get(command.action)
        if mode is None or mode not in FAILURE_MODES[self.spec.kind]:
            known = [a for a, m in ACTIONS.items() if m in FAILURE_MODES[self.spec.kind]]
            raise ContractError(f"command {command.command_id}: action {command.action!r} does not apply to "
                                f"{self.spec.kind} {self.id}; known actions: {known}")

    # --- one sample period --------------------------------------------------------------
    def tick(self) -> tuple[TelemetrySample, list[Event]]:
        """Advance one sample period; return the sample at its end and the events inside it."""
        t0 = self.now
        self.now = t0 + self.period
        dt_h = self.period_s / 3600.0
        amb = ambient_c(self.now)
        events: list[Event] = []
        self._start_pending(t0, events)
        running = self.state == MachineState.RUNNING
        if running:
            self._produce(t0, events)
        self.physics.advance(dt_h, running, amb)
        if running:
            mode = self.physics.failure()
            if mode is not None:
                self._fail(mode, events)
            elif self._rng.random() < dt_h / self.prod.idle_every_h:
                self._enter(MachineState.IDLE, float(self._rng.exponential(self.prod.idle_mean_h)),
                            "waiting for material", events)
        else:
            self._count_down(dt_h, events)
        sample = self._sample(amb)
        self.latest = sample
        return sample, events

    def _new_cycle(self) -> float:
        return self.physics.cycle_time_s(self.physics.programs[self.program][0])

    def _produce(self, t0: datetime, events: list[Event]) -> None:
        self.physics.load = self.physics.programs[self.program][1]
        self._part_done_s += self.period_s
        while self._part_done_s >= self._part_cycle_s and self.state == MachineState.RUNNING:
            self._part_done_s -= self._part_cycle_s
            ts = t0 + timedelta(seconds=self.period_s - self._part_done_s)
            self._complete_part(ts, self._part_cycle_s, events)
            self._part_cycle_s = self._new_cycle()

    def _complete_part(self, ts: datetime, cycle_s: float, events: list[Event]) -> None:
        self._n["part"] += 1
        n = self._n["part"]
        good, defect, measurements = self.physics.inspect()
        energy = self.physics.power_kw(True) * cycle_s / 3600.0
        events.append(_built(PartCompleted,
            event_id=f"{self._prefix}:part:{n}", machine_id=self.id, ts=ts,
            part_id=f"{self.id.split('/')[1]}-{n:07d}", cycle_time_s=round(cycle_s, 2),
            ideal_cycle_time_s=self.physics.programs[self.program][0], energy_kwh=round(energy, 5),
            good=good, defect_type=defect, measurements=measurements))
        self._batch_left -= 1
        if self._batch_left <= 0:
            self._batch_left = self.prod.batch_parts[self.spec.kind]
            names = [p for p in self.physics.programs if p != self.program]
            self.program = names[int(self._rng.integers(len(names)))]
            self._enter(MachineState.SETUP, self.prod.setup_h[self.spec.kind], f"program change to {self.program}",
                        events)

    def _fail(self, mode: str, events: list[Event]) -> None:
        self._n["failure"] += 1
        events.append(_built(FailureOccurred,
            event_id=f"{self._prefix}:failure:{self._n['failure']}", machine_id=self.id, ts=self.now, mode=mode,
            component=MODE_COMPONENT[mode], description=f"{mode} failure on {self.id}"))
        low, high = self.physics.p.repair_h[mode]
        hours = float(self._rng.uniform(low, high))
        self._job = (mode, False, "corrective", None, hours)
        self._part_done_s = 0.0  # the part in the machine is scrap; it is not counted as produced
        self._enter(MachineState.DOWN, hours, f"{mode} failure", events)

    def _start_pending(self, t0: datetime, events: list[Event]) -> None:
        if not self._pending or self.state in (MachineState.DOWN, MachineState.MAINTENANCE):
            return
        cmd = self._pending.pop(0)
        mode = ACTIONS[cmd.action]
        hours = self.physics.p.planned_h[mode]
        self._job = (mode, True, cmd.reason, cmd.command_id, hours)
        self._part_done_s = 0.0
        # The action starts at the beginning of this period, so this period counts toward it.
        self._enter(MachineState.MAINTENANCE, hours, f"{cmd.action} ({cmd.reason})", events, ts=t0)

    def _count_down(self, dt_h: float, events: list[Event]) -> None:
        self._left_h -= dt_h
        if self._left_h > 1e-9:
            return
        if self._job is not None:
            self._finish_job(events)
        self._enter(MachineState.RUNNING, 0.0, "resumed", events)

    def _finish_job(self, events: list[Event]) -> None:
        mode, planned, reason, command_id, hours = self._job  # type: ignore[misc]
        self._job = None
        self.physics.restore(mode)
        if not planned:  # a command for the component just repaired has nothing left to do
            self._pending = [c for c in self._pending if ACTIONS[c.action] != mode]
        p = self.physics.p
        cost = p.parts_cost[mode] * (1.0 if planned else p.corrective_cost_factor[mode])
        self._n["maint"] += 1
        events.append(_built(MaintenanceDone,
            event_id=f"{self._prefix}:maintenance:{self._n['maint']}", machine_id=self.id, ts=self.now,
            action=MODE_ACTION[mode], component=MODE_COMPONENT[mode], planned=planned,
            duration_s=round(hours * 3600.0, 1), reason=reason, command_id=command_id, parts_cost=cost))

    def _enter(self, state: MachineState, hours: float, reason: str, events: list[Event],
               ts: datetime | None = None) -> None:
        if state != self.state:
            self._n["state"] += 1
            events.append(_built(StateChanged,
                event_id=f"{self._prefix}:state:{self._n['state']}", machine_id=self.id, ts=ts or self.now,
                from_state=self.state, to_state=state, reason=reason))
        self.state = state
        self._left_h = hours

    def _sample(self, amb: float) -> TelemetrySample:
        running = self.state == MachineState.RUNNING
        values, quality = self.sensors.read(self.physics.true_signals(running, amb))
        if self.seq and self._slow_sensors:
            values = {k: v for k, v in values.items() if self.seq % self._every[k] == 0}
            quality = {k: q for k, q in quality.items() if k in values}
        n = self._n["part"] + 1
        sample = _built(TelemetrySample,
            machine_id=self.id, ts=self.now, seq=self.seq, signals=values, quality=quality, state=self.state,
            program=self.program, tool_id=self.physics.tool_id,
            part_id=f"{self._short_id}-{n:07d}" if running else None)
        self.seq += 1
        return sample
