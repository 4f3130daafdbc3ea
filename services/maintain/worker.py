"""``linewatch maintain`` as a Kafka app: consumer group ``linewatch-maintain`` on the events and
alerts topics, the pilot's policy (``services.maintain.core.Maintainer``), commands out on
``linewatch.commands.v1``, where the simulated line (or a plant's CMMS bridge) picks them up.

The policy is the one the pilot's arm of the same name runs by default
(``services.pilot.pilot.arm_policy``): the same rate card (repair prices estimated from the
training history where the plant set none), prices, cooldowns and decision
step (``LINEWATCH_PILOT__*`` settings apply here too), the champion models' alert thresholds
from the registry, and the training basis (run-to-failure history on the pilot's training
seed, cached next to the registry) for cooldowns and preventive intervals.

Commands are flushed before the batch's offsets are committed (at-least-once; ids are
deterministic, so a replay repeats the same ids). Undecodable records go to the dead-letter
topic with the reason; records of unknown machines are dead-lettered too; each is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge

from contracts.plant import Plant, load_plant
from contracts.topics import ALERTS, COMMANDS, EVENTS
from runtime.consumer import ConsumeLoop, GroupMembershipLost, Record, Rejected
from runtime.metrics import PipelineMetrics
from runtime.producer import Producer
from services.maintain.core import Maintainer, PolicyFactory, describe
from services.pilot.config import PilotConfig

log = logging.getLogger(__name__)
STAGE = "maintain"
GROUP = "linewatch-maintain"
PolicyName = Literal["predictive", "preventive"]


def policy_factory(name: PolicyName, plant: Plant, config: PilotConfig, registry_dir: Path,
                   say: Callable[[str], None] = log.info) -> PolicyFactory:
    """The pilot arm's policy with the pilot's defaults, built at the line's first timestamp."""
    from services.pilot.line import simulator_line
    from services.pilot.pilot import (
        arm_policy,
        cached_training_basis,
        cost_rule,
        preventive_intervals,
        with_history_rate_card,
    )
    from services.pilot.sources import model_thresholds

    basis = cached_training_basis(plant, simulator_line, config, Path(registry_dir), say=say)
    config = with_history_rate_card(config, basis)   # the pilot's card: repair prices from the history
    thresholds = model_thresholds(plant, registry_dir) if name == "predictive" else {}
    if name == "predictive" and not thresholds:
        say(f"no champion model in {registry_dir}: acting on the rate card's break-even alone")
    intervals = preventive_intervals(config, basis, plant)[0] if name == "preventive" else {}
    if name == "predictive":
        rule = cost_rule(config, thresholds)
        say("act thresholds (p at the typical cycle time): " + ", ".join(
            f"{m} {d['act_threshold']:.2f}" for m, d in rule.describe(basis["cycle_by_mode"]).items()))
    else:
        say("preventive intervals (h): " + ", ".join(f"{m} {h:g}" for m, h in sorted(intervals.items())))

    def make(start: datetime) -> Any:
        return arm_policy(name, plant, config, intervals, basis, thresholds, start=start)

    return make


class MaintainWorker:
    """Events and alerts in, the policy's commands out on the commands topic."""

    def __init__(self, settings: Any, make_policy: PolicyFactory, *, plant: Plant | None = None,
                 registry: CollectorRegistry | None = None, group_id: str = GROUP,
                 review_every: timedelta = timedelta(minutes=30), producer: Producer | None = None) -> None:
        self.settings = settings
        plant = plant or load_plant(settings.plant_file)
        self.maintainer = Maintainer(make_policy, [m.id for m in plant.machines()], review_every)
        self.registry = registry if registry is not None else CollectorRegistry()
        self.pipeline = PipelineMetrics.create(self.registry)
        self.commands = Counter("linewatch_maintain_commands_total", "Maintenance commands published, by action.",
                                ["action"], registry=self.registry)
        self.line_time = Gauge("linewatch_maintain_line_time_seconds",
                               "The line's clock as the maintainer sees it (unix seconds).", registry=self.registry)
        self.producer = producer or Producer(settings.kafka)
        self.loop: ConsumeLoop | None = None
        self._stop = threading.Event()
        self._group_id = group_id

    def handle(self, records: list[Record]) -> list[Rejected]:
        """One batch: feed the maintainer, publish and flush its commands; skipped records are rejected."""
        by_value = {id(r.value): r for r in records}
        before = len(self.maintainer.skipped)
        decisions = self.maintainer.feed(r.value for r in records)
        for decision in decisions:
            self.producer.send(COMMANDS, decision.command)
        if decisions:
            self.producer.flush()  # durable before the loop commits the batch that caused them
        for decision in decisions:
            self.commands.labels(decision.command.action).inc()
            log.info(describe(decision, self.maintainer.clock))
        if self.maintainer.clock is not None:
            self.line_time.set(self.maintainer.clock.timestamp())
        skipped = self.maintainer.skipped[before:]
        del self.maintainer.skipped[:]
        rejected = []
        for s in skipped:
            rec = by_value[id(s.record)]
            log.warning("skipped %s[%d]@%d: %s", rec.topic, rec.partition, rec.offset, s.reason)
            rejected.append(Rejected(rec, s.reason, "Skipped"))
        return rejected

    def stop(self) -> None:
        self._stop.set()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Consume until stopped (a failure propagates: the batch is replayed on restart)."""
        try:
            while True:
                loop = _LoggedLoop(self.settings.kafka, [EVENTS, ALERTS], self._group_id, self.handle, STAGE,
                                   metrics=self.pipeline, producer=self.producer, options=self.settings.consume)
                self.loop = loop  # read by the /healthz check
                try:
                    loop.run(until=lambda: self._stop.is_set() or bool(until and until()))
                    return
                except GroupMembershipLost:  # a new consumer rejoins; the batch is replayed from the commit
                    log.warning("maintain: consumer lost its group; rebuilding it", exc_info=True)
        finally:
            self.producer.flush()
            self.producer.close()


class _LoggedLoop(ConsumeLoop):
    """The consume loop, logging each dead letter's reason (a maintainer must say what it ignored)."""

    def _send_dead_letters(self, rejects: list[Rejected], attempts: int = 0) -> None:
        for rej in rejects:
            if rej.error_type != "Skipped":  # those are logged by the handler already
                rec = rej.record
                log.warning("skipped %s[%d]@%d: %s: %s", rec.topic, rec.partition, rec.offset, rej.error_type,
                            rej.reason[:300])
        super()._send_dead_letters(rejects, attempts)
