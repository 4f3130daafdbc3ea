"""The way out to Kafka: sources hand samples to the ``Sink`` (disk buffer), the ``Forwarder``
thread drains the buffer to Kafka in order and deletes only what Kafka acknowledged."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contracts.messages import DeadLetter, TelemetrySample
from contracts.settings import KafkaSettings
from contracts.topics import DEADLETTER, EVENTS, TELEMETRY
from services.connectors.buffer import DiskBuffer
from services.connectors.metrics import ConnectorMetrics

log = logging.getLogger("linewatch.connectors")


class Sink:
    """What every source writes to. Thread-safe."""

    def __init__(self, buffer: DiskBuffer, metrics: ConnectorMetrics,
                 telemetry_topic: str = TELEMETRY.name, deadletter_topic: str = DEADLETTER.name,
                 events_topic: str = EVENTS.name,
                 flag: Callable[[TelemetrySample], TelemetrySample] | None = None) -> None:
        self.buffer = buffer
        self.flag = flag  # signal-quality flags (``core.quality.SampleFlagger``), if a plant file is known
        self.metrics = metrics
        self.telemetry_topic = telemetry_topic
        self.deadletter_topic = deadletter_topic
        self.events_topic = events_topic

    def emit(self, protocol: str, samples: list[TelemetrySample], events: list[Any] | None = None) -> None:
        """Queue samples and PLC events (and each machine's last seq) in one disk transaction."""
        if not samples and not events:
            return
        if self.flag is not None:
            samples = [self.flag(s) for s in samples]
        records = [(self.events_topic, EVENTS.key(e), EVENTS.encode(e)) for e in events or ()]
        records += [(self.telemetry_topic, TELEMETRY.key(s), TELEMETRY.encode(s)) for s in samples]
        seqs = {s.machine_id: s.seq for s in samples}
        self.buffer.put(records, seqs)
        self.metrics.samples.labels(protocol).inc(len(samples))
        if events:
            for e in events:
                self.metrics.events.labels(protocol, e.kind).inc()
        self.metrics.buffer_records.set(len(self.buffer))

    def dead_letter(self, stage: str, source_topic: str, raw: bytes, reason: str, error_type: str,
                    key: str | None = None) -> None:
        """Keep an input we could not use, whole, with the reason (partition/offset -1: not from Kafka)."""
        letter = DeadLetter(ts=datetime.now(UTC), stage=stage, source_topic=source_topic,
                            source_partition=-1, source_offset=-1, key=key,
                            value_b64=base64.b64encode(raw).decode(), reason=reason[:2000], error_type=error_type)
        self.buffer.put([(self.deadletter_topic, DEADLETTER.key(letter), DEADLETTER.encode(letter))])


class Forwarder:
    """Drains the buffer to Kafka, oldest first. One producer for the process lifetime: kafka-python
    reconnects by itself and, with idempotence, keeps per-partition order across an outage."""

    def __init__(self, buffer: DiskBuffer, kafka: KafkaSettings, metrics: ConnectorMetrics,
                 batch: int = 500, producer_factory: Callable[[], Any] | None = None) -> None:
        self.buffer = buffer
        self.kafka = kafka
        self.metrics = metrics
        self.batch = batch
        self._factory = producer_factory or self._default_producer
        self._producer: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linewatch-forwarder", daemon=True)

    def _default_producer(self) -> Any:
        from runtime.producer import Producer  # runtime is the Kafka layer; imported where it is used

        # max_block_ms bounds a send() while metadata is unknown (Kafka down at start);
        # a long delivery timeout lets the producer ride out an outage with order intact.
        return Producer(self.kafka, max_block_ms=5000, delivery_timeout_ms=600_000, linger_ms=20,
                        reconnect_backoff_max_ms=1000)

    def is_alive(self) -> bool:
        """Whether the forwarding thread runs (the connector's /healthz)."""
        return self._thread.is_alive()

    def start(self) -> Forwarder:
        self._thread.start()
        return self

    def stop(self, drain_s: float = 10.0) -> None:
        """Try to forward what is left for ``drain_s``, then stop; the rest stays on disk."""
        deadline = time.monotonic() + drain_s
        while len(self.buffer) and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.05)
        self._stop.set()
        self.buffer.new_data.set()
        self._thread.join(timeout=drain_s + 15)
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:  # noqa: BLE001 - closing a producer of a dead broker may fail
                pass

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            records = self.buffer.peek(self.batch)
            if not records:
                self.buffer.new_data.wait(0.2)
                self.buffer.new_data.clear()
                continue
            try:
                self._send(records)
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - any failure: keep the data, retry later
                self.metrics.kafka_up.set(0)
                log.warning("Kafka not reachable, %d records kept on disk: %s", len(self.buffer), exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _send(self, records: list) -> None:
        if self._producer is None:
            self._producer = self._factory()
        futures = [self._producer.send_raw(r.topic, r.value, r.key) for r in records]
        while not all(f.is_done for f in futures):
            if self._stop.is_set():
                return
            try:
                self._producer.flush(timeout=2)
            except Exception:  # noqa: BLE001 - flush timeout: broker away; the producer keeps retrying
                self.metrics.kafka_up.set(0)
        done: list[int] = []
        for rec, fut in zip(records, futures, strict=True):
            if not fut.succeeded():
                self.buffer.ack(done)  # keep order: resend from the first failure
                raise RuntimeError(f"delivery failed: {fut.exception!r}")
            done.append(rec.id)
            self.metrics.forwarded.labels(rec.topic).inc()
        self.buffer.ack(done)
        self.metrics.kafka_up.set(1)
        self.metrics.buffer_records.set(len(self.buffer))
