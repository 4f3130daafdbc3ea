"""Stream the simulated line to Kafka and obey maintenance commands from it.

Telemetry goes to ``linewatch.telemetry.v1`` and events to ``linewatch.events.v1``, keyed by
machine id, through ``runtime.producer.Producer``. Commands arrive on
``linewatch.commands.v1`` (consumer group ``linewatch-simulator``) in a background
``ConsumeLoop``; a command that does not fit the plant goes to the dead-letter topic with
the reason. Simulated time runs ``speed`` times faster than the wall clock (0 = as fast
as possible).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from contracts.errors import ContractError
from contracts.messages import MaintenanceCommand
from contracts.settings import KafkaSettings
from contracts.topics import COMMANDS, EVENTS, TELEMETRY
from runtime.consumer import ConsumeLoop, Record, Rejected
from runtime.producer import Producer
from simulators.physics.line import Line

log = logging.getLogger(__name__)
GROUP_ID = "linewatch-simulator"


@dataclass
class SimMetrics:
    """Prometheus metrics of the publisher (no per-machine labels)."""

    samples: Counter
    events: Counter
    commands: Counter
    sim_time: Gauge
    behind: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> SimMetrics:
        return cls(
            samples=Counter("linewatch_sim_samples_total", "Telemetry samples published.", registry=registry),
            events=Counter("linewatch_sim_events_total", "Events published by kind.", ["kind"], registry=registry),
            commands=Counter("linewatch_sim_commands_total", "Commands received by outcome.", ["outcome"],
                             registry=registry),
            sim_time=Gauge("linewatch_sim_time_seconds", "Simulated time reached (unix seconds).",
                           registry=registry),
            behind=Gauge("linewatch_sim_behind_seconds", "Wall seconds the publisher runs behind its speed.",
                         registry=registry),
        )


class Publisher:
    """Step ``line`` in sample periods, publish its output and apply queued commands."""

    def __init__(self, line: Line, producer: Producer, speed: float = 3600.0,
                 metrics: SimMetrics | None = None) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        self.line = line
        self.producer = producer
        self.speed = speed
        self.metrics = metrics or SimMetrics.create(CollectorRegistry())
        self.commands: queue.Queue[MaintenanceCommand] = queue.Queue()
        self.applied: list[str] = []

    def handle_commands(self, records: list[Record]) -> list[Rejected]:
        """ConsumeLoop handler: queue commands that fit the plant, reject the rest with the reason."""
        rejected = []
        for rec in records:
            try:
                self.line.check(rec.value)
            except ContractError as exc:
                self.metrics.commands.labels("rejected").inc()
                rejected.append(Rejected(rec, str(exc), "ContractError"))
                continue
            self.commands.put(rec.value)
        return rejected

    def _apply_queued(self) -> None:
        while True:
            try:
                cmd = self.commands.get_nowait()
            except queue.Empty:
                return
            self.line.apply(cmd)
            self.applied.append(cmd.command_id)
            self.metrics.commands.labels("applied").inc()
            log.info("applying %s on %s (%s)", cmd.action, cmd.machine_id, cmd.command_id)

    def publish_until(self, until: datetime | None, stop: threading.Event | None = None,
                      step: timedelta = timedelta(minutes=1)) -> None:
        """Run until simulated time ``until`` (None: until ``stop`` is set), paced by ``speed``."""
        stop = stop or threading.Event()
        wall0, sim0 = time.monotonic(), self.line.now
        while not stop.is_set() and (until is None or self.line.now < until):
            self._apply_queued()
            target = self.line.now + step if until is None else min(until, self.line.now + step)
            samples, events = self.line.step_until(target)
            for s in samples:
                self.producer.send(TELEMETRY, s)
            for e in events:
                self.producer.send(EVENTS, e)
                self.metrics.events.labels(e.kind).inc()
            self.metrics.samples.inc(len(samples))
            self.metrics.sim_time.set(self.line.now.timestamp())
            if self.speed > 0:
                due = wall0 + (self.line.now - sim0).total_seconds() / self.speed
                lag = time.monotonic() - due
                self.metrics.behind.set(max(0.0, lag))
                if lag < 0:
                    self.producer.flush()
                    stop.wait(-lag)
        self.producer.flush()


def run(line: Line, settings: KafkaSettings, speed: float, until: datetime | None,
        stop: threading.Event | None = None, metrics: SimMetrics | None = None,
        ready: threading.Event | None = None, group_id: str = GROUP_ID) -> Publisher:
    """Publish ``line`` to Kafka while a background loop feeds it commands; returns when done.

    ``ready`` is set once the command consumer has its partitions: commands sent after
    that are obeyed (earlier ones too if the group has committed offsets).
    """
    stop = stop or threading.Event()
    producer = Producer(settings)
    publisher = Publisher(line, producer, speed, metrics)
    ready = ready or threading.Event()
    loop = ConsumeLoop(settings, [COMMANDS], group_id, publisher.handle_commands, stage="simulator",
                       producer=producer, auto_offset_reset="latest", poll_timeout_ms=200,
                       on_assign=lambda parts: ready.set() if parts else None)
    thread = threading.Thread(target=loop.run, name="sim-commands", daemon=True)
    thread.start()
    try:
        publisher.publish_until(until, stop)
    finally:
        loop.stop()
        thread.join(timeout=10)
        producer.flush()
        producer.close()
    return publisher
