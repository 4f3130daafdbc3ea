"""Run one arm (policy × seed) of a pilot on the simulated line, in simulated time.

The runner steps the simulator's pure ``Line`` core in fixed steps; after each step the
policy sees the step's events (and the alerts an ``AlertSource`` raised from its
telemetry) and the commands it issues are applied to the line. The KPI engine later reads
only the events and alerts collected here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from contracts import AlertEvent, MaintenanceCommand, TelemetrySample
from contracts.plant import Plant
from services.pilot.policies import Policy


class AlertSource(Protocol):
    """Turns a step's telemetry and events into alerts (the LineWatch scoring pipeline).

    A source may also keep ``last_scores``, the ``HealthScore``s of its latest ``feed``; the
    runner hands them to the policy (the predictive rule's defect risk).
    """

    name: str

    def feed(self, samples: list[TelemetrySample], events: list[object]) -> list[AlertEvent]: ...

    def close(self) -> None: ...


class SimulatedLine(Protocol):
    """What the runner needs of the simulator's line core."""

    def step_until(self, until: datetime) -> tuple[list[TelemetrySample], list[object]]: ...

    def apply(self, command: MaintenanceCommand) -> None: ...


LineFactory = Callable[[Plant, int, datetime], SimulatedLine]


@dataclass
class ArmRun:
    """Everything one arm produced: the event stream, the alerts and the commands."""

    policy: str
    seed: int
    start: datetime
    end: datetime
    events: list[object] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    commands: list[MaintenanceCommand] = field(default_factory=list)
    samples: int = 0


def run_arm(plant: Plant, seed: int, policy: Policy, make_line: LineFactory, start: datetime, days: float,
            step: timedelta = timedelta(minutes=10), alert_source: AlertSource | None = None,
            tick: Callable[[float], None] | None = None) -> ArmRun:
    """Simulate ``days`` under ``policy``; ``tick(fraction_done)`` reports progress."""
    end = start + timedelta(days=days)
    run = ArmRun(policy=policy.name, seed=seed, start=start, end=end)
    line = make_line(plant, seed, start)
    if hasattr(policy, "know_ages") and hasattr(line, "component_ages"):
        policy.know_ages(line.component_ages())  # the plant's CMMS record: what a planner knows at the start
    if alert_source is not None and hasattr(alert_source, "wrap_line"):
        line = alert_source.wrap_line(line)  # the Kafka loop: commands travel through the commands topic
    now = start
    while now < end:
        now = min(now + step, end)
        samples, events = line.step_until(now)
        alerts = alert_source.feed(samples, events) if alert_source is not None else []
        run.samples += len(samples)
        run.events.extend(events)
        run.alerts.extend(alerts)
        # the scores of this step (an in-process source keeps them; a source without them gives none)
        policy.observe(events, alerts, getattr(alert_source, "last_scores", ()) if alert_source is not None else ())
        for command in policy.due(now):
            line.apply(command)
            run.commands.append(command)
        if tick is not None:
            tick((now - start) / (end - start))
    return run


def operating_hours_to_failure(runs: Iterable[ArmRun], plant: Plant) -> dict[str, float]:
    """Mean hours from a component's restoration to its failure, per mode, from run-to-failure events.

    A plant would read the same figure from its maintenance history (CMMS); the fixed-interval
    policy uses it as the component's expected life. Time still running at the end of a run
    (censored) counts towards exposure, so the figure is exposure / failures (the MLE of the
    exponential mean life), not biased towards short lives.
    """
    exposure: dict[str, float] = {}
    failures: dict[str, int] = {}
    for run in runs:
        total_h = (run.end - run.start).total_seconds() / 3600.0
        for machine in plant.machines():
            for mode in machine.failure_modes:
                exposure[mode] = exposure.get(mode, 0.0) + total_h
        for event in run.events:
            if getattr(event, "kind", None) == "failure":
                failures[event.mode] = failures.get(event.mode, 0) + 1
    return {mode: exposure[mode] / failures[mode] for mode in sorted(exposure) if failures.get(mode)}


def cycle_by_mode(runs: Iterable[ArmRun], plant: Plant) -> dict[str, float]:
    """Median ideal cycle time (s) of the machines each failure mode belongs to, from ``PartCompleted`` events."""
    cycles: dict[str, list[float]] = {}
    kinds = {m.id: m for m in plant.machines()}
    for run in runs:
        for event in run.events:
            if getattr(event, "kind", None) == "part_completed" and event.machine_id in kinds:
                for mode in kinds[event.machine_id].failure_modes:
                    cycles.setdefault(mode, []).append(event.ideal_cycle_time_s)
    return {mode: sorted(v)[len(v) // 2] for mode, v in sorted(cycles.items())}
