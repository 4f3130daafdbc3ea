"""The consume loop every stage runs: batched poll, decode inside the loop, dead letters,
offsets committed only after the handler made its outputs durable.

A handler gets the decoded records of one poll and returns the ones it rejects (with a
reason); those go to ``linewatch.deadletter.v1`` with their original bytes. If the handler
raises, nothing is committed and the exception propagates: the process restarts and the
batch is replayed, so handlers must be idempotent (at-least-once delivery).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from kafka import OffsetAndMetadata, TopicPartition

from contracts.errors import ContractError
from contracts.messages import DeadLetter
from contracts.settings import KafkaSettings
from contracts.topics import DEADLETTER, Topic
from runtime.metrics import PipelineMetrics, default_metrics
from runtime import transport
from runtime.producer import Producer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One decoded record with its coordinates and original bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: Any
    raw: bytes | None
    timestamp_ms: int


@dataclass(frozen=True)
class Rejected:
    record: Record
    reason: str
    error_type: str = "Rejected"


Handler = Callable[[list[Record]], Iterable[Rejected] | None]


def dead_letter(stage: str, topic: str, partition: int, offset: int, key: bytes | None,
                raw: bytes | None, reason: str, error_type: str) -> DeadLetter:
    return DeadLetter(
        ts=datetime.now(timezone.utc), stage=stage, source_topic=topic, source_partition=partition,
        source_offset=offset, key=key.decode("utf-8", "replace") if key is not None else None,
        value_b64=base64.b64encode(raw or b"").decode(), reason=reason[:2000], error_type=error_type,
    )


class ConsumeLoop:
    """Run ``handler`` over batches of decoded records from ``topics`` in consumer group ``group_id``."""

    def __init__(self, settings: KafkaSettings, topics: Sequence[Topic[Any]], group_id: str, handler: Handler,
                 stage: str, *, max_records: int = 2000, poll_timeout_ms: int = 500,
                 metrics: PipelineMetrics | None = None, producer: Producer | None = None,
                 auto_offset_reset: str = "earliest", on_assign: Callable[[set[TopicPartition]], None] | None = None,
                 **consumer_overrides: Any) -> None:
        self._topics = {t.name: t for t in topics}
        self._handler = handler
        self.stage = stage
        self._max_records = max_records
        self._poll_timeout_ms = poll_timeout_ms
        self._metrics = metrics or default_metrics()
        self._own_producer = producer is None
        self._producer = producer or Producer(settings)
        self._stop = threading.Event()
        self._on_assign = on_assign
        kw: dict[str, Any] = {
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": auto_offset_reset,
            "max_poll_records": max_records,
            "session_timeout_ms": 15_000,
            "heartbeat_interval_ms": 3_000,
            # A group joined before the consumer has its topics' metadata gets no partitions and
            # waits for the next metadata refresh: keep that wait short (default is 5 minutes).
            "metadata_max_age_ms": 30_000,
            **settings.client_kwargs(),
        }
        kw.update(consumer_overrides)
        self.consumer = transport.consumer(settings, **kw)  # kafka-python or librdkafka
        for name in self._topics:  # fetch topic metadata before joining the group (see above)
            self.consumer.partitions_for_topic(name)
        self.consumer.subscribe(list(self._topics))
        self.processed = 0
        self.dead_lettered = 0
        self._last_poll = time.monotonic()

    def seconds_since_poll(self) -> float:
        """Seconds since the loop last returned from ``poll`` (liveness for /healthz)."""
        return time.monotonic() - self._last_poll

    def stop(self) -> None:
        """Ask the loop to finish its current batch and return."""
        self._stop.set()

    def _decode(self, raw_records: list[Any]) -> tuple[list[Record], list[Rejected]]:
        oks: list[Record] = []
        errs: list[Rejected] = []
        for r in raw_records:
            topic = self._topics[r.topic]
            try:
                value = topic.decode(r.value)
            except ContractError as exc:
                errs.append(Rejected(Record(r.topic, r.partition, r.offset, r.key, None, r.value, r.timestamp),
                                     str(exc), "ContractError"))
                continue
            oks.append(Record(r.topic, r.partition, r.offset, r.key, value, r.value, r.timestamp))
        return oks, errs

    def poll_once(self) -> int:
        """Poll one batch, process it, dead-letter rejects, commit. Returns records handled."""
        polled = self.consumer.poll(timeout_ms=self._poll_timeout_ms, max_records=self._max_records)
        self._last_poll = time.monotonic()
        if not polled:
            return 0
        began = time.perf_counter()
        raw = [r for batch in polled.values() for r in batch]
        oks, errs = self._decode(raw)
        rejected = list(self._handler(oks) or []) if oks else []
        for rej in errs + rejected:
            rec = rej.record
            self._producer.send(DEADLETTER, dead_letter(self.stage, rec.topic, rec.partition, rec.offset,
                                                        rec.key, rec.raw, rej.reason, rej.error_type))
        if errs or rejected:
            self._producer.flush()  # dead letters durable before the commit
        offsets = {tp: OffsetAndMetadata(batch[-1].offset + 1, None, -1) for tp, batch in polled.items()}
        self.consumer.commit(offsets)
        n_bad = len(errs) + len(rejected)
        self.processed += len(raw) - n_bad
        self.dead_lettered += n_bad
        self._metrics.messages.labels(self.stage, "ok").inc(len(raw) - n_bad)
        if n_bad:
            self._metrics.messages.labels(self.stage, "dead_letter").inc(n_bad)
        self._metrics.batch_seconds.labels(self.stage).observe(time.perf_counter() - began)
        return len(raw)

    def lag(self) -> int:
        """Records between the committed position and the log end, over assigned partitions."""
        assigned = self.consumer.assignment()
        if not assigned:
            return 0
        ends = self.consumer.end_offsets(list(assigned))
        total = sum(max(0, ends[tp] - self.consumer.position(tp)) for tp in assigned)
        self._metrics.lag.labels(self.stage).set(total)
        return total

    def run(self, until: Callable[[], bool] | None = None, lag_every_s: float = 5.0) -> None:
        """Loop until ``stop()`` is called or ``until()`` returns True."""
        last_lag = 0.0
        assigned: set[TopicPartition] = set()
        try:
            while not self._stop.is_set() and not (until and until()):
                self.poll_once()
                if self._on_assign is not None:
                    now = self.consumer.assignment()
                    if now != assigned:
                        assigned = set(now)
                        self._on_assign(assigned)
                if time.monotonic() - last_lag > lag_every_s:
                    last_lag = time.monotonic()
                    try:
                        self.lag()
                    except Exception:  # noqa: BLE001 - lag is best effort, never fatal
                        log.debug("lag query failed", exc_info=True)
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            if self._own_producer:
                self._producer.flush()
                self._producer.close()
