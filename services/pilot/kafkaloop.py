"""The closed loop over a real broker: the pilot's line publishes telemetry and events, the
real scoring worker (``pipelines.scoring.worker``) consumes them and publishes alerts, the
policy's commands go out on ``linewatch.commands.v1`` and the line obeys only what it
reads back from that topic.

Lockstep keeps it deterministic: after each step the loop waits until the worker's
committed offsets reach the end of the input topics (the worker commits only after its
outputs are durable), then reads the alerts topic to its end. Topics are fixed names, so
one pilot owns its broker (``runtime.broker.start`` with its own work folder).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from contracts import ALERTS, COMMANDS, EVENTS, TELEMETRY, AlertEvent, MaintenanceCommand, TelemetrySample
from contracts.errors import BrokerError
from contracts.plant import Plant
from contracts.settings import StoreSettings
from runtime.producer import Producer


def _consumer(settings: Any, topic: str) -> tuple[KafkaConsumer, list[TopicPartition]]:
    consumer = KafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    return consumer, parts


def _drain(consumer: KafkaConsumer, parts: list[TopicPartition], timeout_s: float = 60.0) -> list[bytes]:
    """Every record up to the current end offsets of ``parts``."""
    ends, out, deadline = consumer.end_offsets(parts), [], time.monotonic() + timeout_s
    while any(consumer.position(tp) < ends[tp] for tp in parts):
        if time.monotonic() > deadline:
            raise BrokerError("timed out reading the loop's topic to its end")
        for records in consumer.poll(timeout_ms=200).values():
            out += [r.value for r in records]
    return out


class KafkaLoop:
    """Alert source and command channel of one pilot run, through the real worker."""

    def __init__(self, plant: Plant, worker_settings: Any, timeout_s: float = 120.0) -> None:
        from pipelines.scoring.worker import ScoringWorker

        self.kafka = worker_settings.kafka
        self.group = f"linewatch-pilot-{uuid.uuid4().hex[:8]}"
        settings = worker_settings.model_copy(
            update={"scoring": worker_settings.scoring.model_copy(update={"group_id": self.group})})
        self.worker = ScoringWorker(settings, plant=plant)
        self.thread = threading.Thread(target=self.worker.run, name="pilot-scoring", daemon=True)
        self.thread.start()
        self.producer = Producer(self.kafka)
        self.alerts, self.alert_parts = _consumer(self.kafka, ALERTS.name)
        self.commands, self.command_parts = _consumer(self.kafka, COMMANDS.name)
        self.admin_probe = KafkaConsumer(**self.kafka.client_kwargs(), group_id=self.group, enable_auto_commit=False)
        self.timeout_s = timeout_s
        self.obeyed: list[MaintenanceCommand] = []  # what the line read off the commands topic and applied
        self.name = "Kafka closed loop: scoring worker (pipelines.scoring.worker) over linewatch.*.v1 topics"

    def wrap_line(self, line: Any) -> CommandedLine:
        """The line as this loop drives it: commands only through ``linewatch.commands.v1``."""
        return CommandedLine(line, self)

    def _caught_up(self) -> bool:
        parts = [TopicPartition(t, p) for t in (TELEMETRY.name, EVENTS.name)
                 for p in sorted(self.admin_probe.partitions_for_topic(t) or [])]
        ends = self.admin_probe.end_offsets(parts)
        return all((self.admin_probe.committed(tp) or 0) >= ends[tp] for tp in parts if ends[tp] > 0)

    def feed(self, samples: list[TelemetrySample], events: list[object]) -> list[AlertEvent]:
        """Publish one step, wait for the worker to commit past it, return the alerts it raised."""
        for event in events:
            self.producer.send(EVENTS, event)
        for sample in samples:
            self.producer.send(TELEMETRY, sample)
        self.producer.flush(timeout=self.timeout_s)
        deadline = time.monotonic() + self.timeout_s
        while not self._caught_up():
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise BrokerError("the scoring worker did not catch up with the pilot line in time")
            time.sleep(0.05)
        return [ALERTS.decode(raw) for raw in _drain(self.alerts, self.alert_parts, self.timeout_s)]

    def send(self, command: MaintenanceCommand) -> None:
        """Put a policy's command on the commands topic (the line reads it back)."""
        self.producer.send(COMMANDS, command)

    def received(self) -> list[MaintenanceCommand]:
        """Commands on the topic not yet handed to the line."""
        self.producer.flush(timeout=self.timeout_s)
        return [COMMANDS.decode(raw) for raw in _drain(self.commands, self.command_parts, self.timeout_s)]

    def close(self) -> None:
        """Stop the worker and close every client."""
        self.worker.stop()
        self.thread.join(timeout=30)
        for client in (self.alerts, self.commands, self.admin_probe):
            client.close()
        self.producer.close()


class CommandedLine:
    """The simulated line as the loop sees it: commands reach it only through the topic."""

    def __init__(self, line: Any, loop: KafkaLoop) -> None:
        self.line, self.loop = line, loop

    def apply(self, command: MaintenanceCommand) -> None:
        """Publish, do not apply: the line acts on what it reads from ``linewatch.commands.v1``."""
        self.loop.send(command)

    def step_until(self, until: datetime) -> tuple[list[TelemetrySample], list[object]]:
        """Obey the commands waiting on the topic, then advance the line."""
        for command in self.loop.received():
            self.line.apply(command)
            self.loop.obeyed.append(command)
        return self.line.step_until(until)


class BrokerLoop(KafkaLoop):
    """A ``KafkaLoop`` on a broker of its own (fresh topics per run), stopped on ``close``."""

    def __init__(self, plant: Plant, registry_dir: Any, score_every: int, base: Any) -> None:
        from pipelines.scoring.settings import ScoringOptions, ScoringSettings
        from runtime import broker
        from runtime.admin import ensure_topics

        self._broker, self._work = broker, Path(tempfile.mkdtemp(prefix="linewatch-pilot-kafka-"))
        info = broker.start(self._work, timeout_s=180)
        try:
            kafka = base.model_copy(update={"bootstrap_servers": info.bootstrap})
            ensure_topics(kafka)
            settings = ScoringSettings(kafka=kafka, registry_dir=registry_dir, metrics_port=0,
                                       store=StoreSettings(url=f"sqlite:///{self._work / 'store.db'}"),
                                       scoring=ScoringOptions(score_every=score_every))
            super().__init__(plant, settings)
        except BaseException:
            broker.stop(self._work)
            raise

    def close(self) -> None:
        """Stop the worker and clients, then the broker (by its pid)."""
        try:
            super().close()
        finally:
            self._broker.stop(self._work)
            shutil.rmtree(self._work, ignore_errors=True)
