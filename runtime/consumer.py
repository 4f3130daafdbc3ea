"""The consume loop every stage runs: batched poll, decode inside the loop, dead letters,
offsets committed only after the handler made its outputs durable.

A handler gets the decoded records of one poll and returns the ones it rejects (with a
reason); those go to ``linewatch.deadletter.v1`` with their original bytes. If the handler
raises, nothing is committed and the exception propagates: the process restarts and the
batch is replayed, so handlers must be idempotent (at-least-once delivery).

Poison records never wedge the loop (docs/kafka.md "Poison records and dead letters"):

- a dead letter too large for the producer keeps the reason, coordinates, size, SHA-256
  and a bounded prefix of the value (``ConsumeOptions.dead_letter_max_bytes``), and a dead
  letter the broker still refuses is sent again without any payload;
- when the handler raises (anything but a transient broker/store/network error), the
  failure is written into the committed offset's metadata of each partition of the batch
  (offsets do not move). The next loop, in this process or a restarted one, reads it and
  hands that partition's records to the handler one at a time, counting attempts in the
  metadata before each; a record that failed ``max_failures`` times is dead-lettered
  (``error_type="ProcessingFailed"``, with the last error) and the offset moves past it;
- ``LoopProgress`` outlives the loop so ``/healthz`` can tell a restart loop without
  progress from a working worker, and the lag gauge is committed offset vs log end.

Only ``poll``, ``commit`` (with metadata), ``committed``, ``seek``, ``assignment``,
``beginning_offsets`` and ``end_offsets`` of the client are used, so another transport
can sit behind the same loop.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field

from contracts.errors import ContractError
from contracts.messages import DeadLetter
from contracts.settings import KafkaSettings
from contracts.topics import DEADLETTER, Topic
from runtime import transport
from runtime.metrics import PipelineMetrics, default_metrics
from runtime.producer import Producer

log = logging.getLogger(__name__)


class GroupMembershipLost(KafkaError):  # type: ignore[misc]  # kafka-python ships no types: its base is Any
    """The consumer lost its group membership and does not get it back: build a new one."""


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

#: Dead letters are kept under this many bytes by default: well below kafka-python's
#: ``max_request_size`` (1,048,576) and the broker's default ``message.max.bytes`` (1,048,588).
DEAD_LETTER_MAX_BYTES = 512_000
KEY_MAX_CHARS = 1_000
_META_TAG = "lw-fail"


class ConsumeOptions(BaseModel):
    """Poison-record limits of every consume loop (``LINEWATCH_CONSUME__*``)."""

    model_config = ConfigDict(extra="forbid")

    dead_letter_max_bytes: int = Field(default=DEAD_LETTER_MAX_BYTES, ge=4_096,
                                       description="Encoded dead letters larger than this become summaries.")
    dead_letter_prefix_bytes: int = Field(default=4_096, ge=0,
                                          description="Bytes of the original value a summary keeps.")
    max_failures: int = Field(default=3, ge=1, description="Handler failures on one record before it is "
                                                           "dead-lettered and skipped.")
    stall_restarts: int = Field(default=3, ge=1, description="/healthz fails after this many restarts "
                                                             "without a commit in between.")


class LoopProgress:
    """What a supervisor and ``/healthz`` need across loop restarts: commits and failures."""

    def __init__(self) -> None:
        self.last_commit: float | None = None
        self.restarts_since_commit = 0
        self.last_error = ""

    def committed(self) -> None:
        self.last_commit = time.monotonic()
        self.restarts_since_commit = 0

    def failed(self, exc: BaseException) -> None:
        self.restarts_since_commit += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]

    def check(self, stall_restarts: int) -> tuple[bool, str]:
        """Unhealthy after ``stall_restarts`` failures with no commit in between."""
        if self.restarts_since_commit >= stall_restarts:
            since = ("never committed" if self.last_commit is None
                     else f"last commit {time.monotonic() - self.last_commit:.0f}s ago")
            return False, (f"restarting without progress: {self.restarts_since_commit} failures, {since}; "
                           f"last error {self.last_error}")
        return True, "ok"


_TRANSIENT_NAMES = ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError", "PoolTimeout")


def is_transient(exc: BaseException) -> bool:
    """Broker, store or network trouble: retry the batch, never blame (dead-letter) a record."""
    if isinstance(exc, (KafkaError, ConnectionError, TimeoutError, OSError)):
        return True
    return any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__)


def dead_letter(stage: str, topic: str, partition: int, offset: int, key: bytes | None,
                raw: bytes | None, reason: str, error_type: str, *, max_bytes: int = DEAD_LETTER_MAX_BYTES,
                prefix_bytes: int = 4_096, attempts: int = 0) -> DeadLetter:
    """The dead letter of one record; a summary (size, hash, prefix) when it would not fit ``max_bytes``."""
    raw = raw or b""
    key_text = key.decode("utf-8", "replace") if key is not None else None
    key_cut = key_text is not None and len(key_text) > KEY_MAX_CHARS
    reason = reason[:2000]
    whole = (len(raw) + 2) // 3 * 4 + len(reason) * 4 + (len(key_text or "") * 4) + 1_000 <= max_bytes
    if whole and not key_cut:
        value, truncated = raw, False
    else:
        value, truncated = raw[:prefix_bytes], True
        reason = (f"{reason} [record of {len(raw):,} bytes dead-lettered as a summary: sha256 and the first "
                  f"{len(value):,} bytes kept; replay it from {topic}[{partition}]@{offset}]")
    return DeadLetter(
        ts=datetime.now(UTC), stage=stage, source_topic=topic, source_partition=partition,
        source_offset=offset, key=key_text[:KEY_MAX_CHARS] if key_text is not None else None,
        value_b64=base64.b64encode(value).decode(), reason=reason, error_type=error_type,
        value_bytes=len(raw), value_sha256=hashlib.sha256(raw).hexdigest(), truncated=truncated,
        attempts=attempts,
    )


def _fail_meta(offset: int, attempts: int, end: int, error: str) -> str:
    return json.dumps({_META_TAG: 1, "o": offset, "n": attempts, "end": end, "err": error[:1500]})


def _parse_meta(meta: str | None) -> dict[str, Any] | None:
    if not meta or _META_TAG not in meta:
        return None
    try:
        data = json.loads(meta)
        return {"o": int(data["o"]), "n": int(data["n"]), "end": int(data["end"]), "err": str(data["err"])}
    except (ValueError, KeyError, TypeError):
        return None


class ConsumeLoop:
    """Run ``handler`` over batches of decoded records from ``topics`` in consumer group ``group_id``."""

    def __init__(self, settings: KafkaSettings, topics: Sequence[Topic[Any]], group_id: str, handler: Handler,
                 stage: str, *, max_records: int = 2000, poll_timeout_ms: int = 500,
                 metrics: PipelineMetrics | None = None, producer: Producer | None = None,
                 auto_offset_reset: str = "earliest", on_assign: Callable[[set[TopicPartition]], None] | None = None,
                 options: ConsumeOptions | None = None, progress: LoopProgress | None = None,
                 transient: Callable[[BaseException], bool] = is_transient,
                 **consumer_overrides: Any) -> None:
        self._topics = {t.name: t for t in topics}
        self.options = options or ConsumeOptions()
        self.progress = progress or LoopProgress()
        self._transient = transient
        self._isolate: dict[TopicPartition, dict[str, Any]] = {}  # partitions handled one record at a time
        self._known: set[TopicPartition] = set()
        self._handler = handler
        self.stage = stage
        self._max_records = max_records
        self._poll_timeout_ms = poll_timeout_ms
        self._metrics = metrics or default_metrics()
        self._own_producer = producer is None
        self._settings = settings
        self._producer = producer or Producer(settings)
        self._producer_broken: str | None = None
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
        self._session_s = float(kw["session_timeout_ms"]) / 1000
        self._was_assigned = False
        self.consumer = transport.consumer(settings, **kw)  # kafka-python or librdkafka
        for name in self._topics:  # fetch topic metadata before joining the group (see above)
            self.consumer.partitions_for_topic(name)
        self.consumer.subscribe(list(self._topics))
        self.processed = 0
        self.dead_lettered = 0
        self._last_poll = time.monotonic()
        self._log_starts: dict[TopicPartition, int] = {}  # of partitions without a committed offset (lag)

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
        polled = self.consumer.poll(timeout_ms=self._poll_timeout_ms,
                                    max_records=1 if self._isolate else self._max_records)
        self._last_poll = time.monotonic()
        self._load_failures()
        if not polled:
            return 0
        began = time.perf_counter()
        batch_raw: list[Any] = []
        single: list[tuple[TopicPartition, Any]] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, recs in polled.items():
            if tp in self._isolate:
                single.append((tp, recs[0]))
                if len(recs) > 1:  # fetched before the failure was known: the rest comes again, one at a time
                    self.consumer.seek(tp, recs[0].offset + 1)
            else:
                batch_raw.extend(recs)
                offsets[tp] = OffsetAndMetadata(recs[-1].offset + 1, "", -1)
        n_ok, n_bad = 0, 0
        if batch_raw:
            ok, bad = self._process(batch_raw, {tp: recs for tp, recs in polled.items() if tp in offsets})
            n_ok, n_bad = n_ok + ok, n_bad + bad
        for tp, rec in single:
            ok, bad, meta = self._process_isolated(tp, rec)
            offsets[tp] = OffsetAndMetadata(rec.offset + 1, meta, -1)
            n_ok, n_bad = n_ok + ok, n_bad + bad
        self.consumer.commit(offsets)
        self.progress.committed()
        if self._producer_broken is not None:
            self._replace_producer()
        for tp, rec in single:
            if rec.offset + 1 > self._isolate[tp]["end"]:
                del self._isolate[tp]
            else:
                self._isolate[tp] = {**self._isolate[tp], "o": rec.offset + 1, "n": 0}
        self.processed += n_ok
        self.dead_lettered += n_bad
        self._metrics.messages.labels(self.stage, "ok").inc(n_ok)
        if n_bad:
            self._metrics.messages.labels(self.stage, "dead_letter").inc(n_bad)
        self._metrics.batch_seconds.labels(self.stage).observe(time.perf_counter() - began)
        return n_ok + n_bad

    def _process(self, raw: list[Any], by_tp: dict[TopicPartition, list[Any]]) -> tuple[int, int]:
        """Decode, handle, dead-letter one batch; on a handler failure note it in the offsets' metadata."""
        oks, errs = self._decode(raw)
        try:
            rejected = list(self._handler(oks) or []) if oks else []
        except Exception as exc:
            if not self._transient(exc):
                error = f"{type(exc).__name__}: {exc}"
                note = {tp: OffsetAndMetadata(recs[0].offset, _fail_meta(recs[0].offset, 0, recs[-1].offset, error),
                                              -1) for tp, recs in by_tp.items()}
                self._try_commit(note)
            raise
        self._send_dead_letters(errs + rejected)
        return len(raw) - len(errs) - len(rejected), len(errs) + len(rejected)

    def _process_isolated(self, tp: TopicPartition, rec: Any) -> tuple[int, int, str]:
        """One record of a partition that failed before: dead-letter it after ``max_failures``.

        Returns (ok, dead-lettered, metadata for the commit past it)."""
        fail = self._isolate[tp]
        attempts = fail["n"] if rec.offset == fail["o"] else 0
        end, error = fail["end"], fail["err"]
        after = "" if rec.offset + 1 > end else _fail_meta(rec.offset + 1, 0, end, error)
        if attempts >= self.options.max_failures:
            letter = Rejected(Record(rec.topic, rec.partition, rec.offset, rec.key, None, rec.value, rec.timestamp),
                              f"stage {self.stage} failed {attempts} times on this record; last error: {error}",
                              "ProcessingFailed")
            self._send_dead_letters([letter], attempts=attempts)
            log.error("dead-lettered %s[%d]@%d after %d failures: %s", rec.topic, rec.partition, rec.offset,
                      attempts, error)
            return 0, 1, after
        # count the attempt before it runs: a crash while handling it still counts
        self.consumer.commit({tp: OffsetAndMetadata(rec.offset, _fail_meta(rec.offset, attempts + 1, end, error),
                                                    -1)})
        oks, errs = self._decode([rec])
        try:
            rejected = list(self._handler(oks) or []) if oks else []
        except Exception as exc:
            note = (_fail_meta(rec.offset, attempts, end, error) if self._transient(exc)  # not the record's fault
                    else _fail_meta(rec.offset, attempts + 1, end, f"{type(exc).__name__}: {exc}"))
            self._try_commit({tp: OffsetAndMetadata(rec.offset, note, -1)})
            raise
        self._send_dead_letters(errs + rejected)
        return 1 - len(errs) - len(rejected), len(errs) + len(rejected), after

    def _replace_producer(self) -> None:
        error, self._producer_broken = self._producer_broken, None
        if not self._own_producer:  # shared with the handler: its owner must rebuild it
            raise KafkaError(f"producer failed fatally on a dead letter ({error}); restart to rebuild it")
        try:
            self._producer.close(timeout=5)
        except Exception:  # it is broken already
            log.debug("closing the broken producer failed", exc_info=True)
        self._producer = Producer(self._settings)

    def _try_commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        try:
            self.consumer.commit(offsets)
        except Exception:  # the failure being reported matters more
            log.warning("could not record the failure in the committed metadata", exc_info=True)

    def _load_failures(self) -> None:
        """Failures noted by an earlier loop, read once per newly assigned partition."""
        assigned = self.consumer.assignment()
        if assigned == self._known:
            return
        for tp in set(self._known) - set(assigned):
            self._isolate.pop(tp, None)
        for tp in set(assigned) - self._known:
            try:
                committed = self.consumer.committed(tp, metadata=True)
            except TypeError:  # a transport without commit metadata: failures are not carried over
                committed = None
            fail = _parse_meta(getattr(committed, "metadata", None)) if committed is not None else None
            if fail is not None and committed.offset <= fail["end"]:
                self._isolate[tp] = fail
                log.warning("%s: %s failed at offset %d before (%d attempts): one record at a time until %d",
                            self.stage, tp, fail["o"], fail["n"], fail["end"])
        self._known = set(assigned)
        self._was_assigned = self._was_assigned or bool(assigned)

    def _send_dead_letters(self, rejects: list[Rejected], attempts: int = 0) -> None:
        """Send, flush and confirm every dead letter; a refused one goes again as a bare summary."""
        if not rejects:
            return
        opts = self.options
        sent = []
        for rej in rejects:
            rec = rej.record
            letter = dead_letter(self.stage, rec.topic, rec.partition, rec.offset, rec.key, rec.raw, rej.reason,
                                 rej.error_type, max_bytes=opts.dead_letter_max_bytes,
                                 prefix_bytes=opts.dead_letter_prefix_bytes, attempts=attempts)
            sent.append((rej, letter, self._send(letter)))
        self._producer.flush()  # dead letters durable before the commit
        failed = [(rej, letter, error) for rej, letter, future in sent if (error := self._failure(future))]
        if not failed:
            return
        # The broker refused a dead letter (e.g. the topic's max.message.bytes is lower than ours). An
        # idempotent producer treats that as fatal and drops everything queued, so send again through a
        # fresh producer: the same letter if it was only caught up in another's failure, else a summary
        # without any payload. The loop's producer is replaced (or the loop restarts) after the commit.
        self._producer_broken = failed[0][2]
        with Producer(self._settings) as fresh:
            for rej, letter, error in failed:
                rec = rej.record
                if "TooLarge" in error or "Size" in error:
                    letter = dead_letter(self.stage, rec.topic, rec.partition, rec.offset, rec.key, rec.raw,
                                         f"{rej.reason} [dead letter refused: {error}]", rej.error_type,
                                         max_bytes=0, prefix_bytes=0, attempts=attempts)
                future = self._send(letter, fresh)
                fresh.flush()
                again = self._failure(future)
                if again is not None:
                    raise KafkaError(f"cannot dead-letter {rec.topic}[{rec.partition}]@{rec.offset}: {again}")

    def _send(self, letter: DeadLetter, producer: Producer | None = None) -> Any:
        try:
            return (producer or self._producer).send(DEADLETTER, letter)
        except KafkaError as exc:  # raised at once, e.g. MessageSizeTooLargeError
            return exc

    @staticmethod
    def _failure(future: Any) -> str | None:
        if isinstance(future, BaseException):
            return f"{type(future).__name__}: {future}"
        if not hasattr(future, "is_done"):  # librdkafka transport: its flush raises on a failed message
            return None
        if not future.is_done:
            return "not delivered after flush"
        if future.failed():
            return f"{type(future.exception).__name__}: {future.exception}"
        return None

    def check_group(self) -> None:
        """Raise if the consumer lost its group membership and is not getting it back.

        kafka-python 3.0 heartbeats from its IO thread; when that stalls past the session timeout
        the broker removes the member, and the client was seen to spin for good looking for its
        coordinator, polling nothing (a scorer in a fresh demo: 0 scores, lag 400k). A consumer that
        had partitions and has heard no heartbeat answer for 3 session timeouts is rebuilt by its
        supervisor. librdkafka rejoins by itself (no such state: nothing to check)."""
        heartbeat = getattr(getattr(self.consumer, "_coordinator", None), "heartbeat", None)  # kafka-python's
        if heartbeat is None or not self._was_assigned:
            return
        silent = time.monotonic() - max(heartbeat.last_receive, heartbeat.last_reset)
        if silent > 3 * self._session_s:
            raise GroupMembershipLost(f"{self.stage}: no group heartbeat answered for {silent:.0f} s (session "
                                      f"timeout {self._session_s:.0f} s): the consumer lost its group membership; "
                                      "rebuilding it")

    def lag(self, cached: bool = False) -> int:
        """Group lag: log end minus the committed offset (or the log start), over assigned partitions.

        ``cached`` (the loop's periodic gauge) takes each log end from the client's last fetch where
        the transport keeps one (``transport.end_offsets``), instead of asking the broker per partition,
        and the log start of a partition without a committed offset from the last direct call (it moves
        only with retention; librdkafka asked the broker once per partition, ~0.2 s each: 8.5 of 29 s
        of a benchmark worker's wall time went to the events partitions' log starts).
        A committed offset below the log start (retention removed records) counts those records
        until the loop commits past them."""
        assigned = list(self.consumer.assignment())
        if not assigned:
            return 0
        ends = transport.end_offsets(self.consumer, assigned, cached=cached)
        committed = {tp: self.consumer.committed(tp) for tp in assigned}
        uncommitted = [tp for tp, offset in committed.items() if offset is None]
        unknown = [tp for tp in uncommitted if not cached or tp not in self._log_starts]
        if unknown:
            self._log_starts.update(self.consumer.beginning_offsets(unknown))
        begins = self._log_starts
        total = 0
        for tp in assigned:
            offset = committed[tp]
            base = offset if offset is not None else begins[tp]
            total += max(0, ends[tp] - base)
        self._metrics.lag.labels(self.stage).set(total)
        return total

    def run(self, until: Callable[[], bool] | None = None, lag_every_s: float = 5.0) -> None:
        """Loop until ``stop()`` is called or ``until()`` returns True."""
        last_lag = 0.0
        assigned: set[TopicPartition] = set()
        try:
            while not self._stop.is_set() and not (until and until()):
                try:
                    self.poll_once()
                except Exception:
                    try:
                        self.lag()  # the gauge stays truthful while a supervisor restarts us
                    except Exception:
                        log.debug("lag query failed", exc_info=True)
                    raise
                if self._on_assign is not None:
                    now = self.consumer.assignment()
                    if now != assigned:
                        assigned = set(now)
                        self._on_assign(assigned)
                if time.monotonic() - last_lag > lag_every_s:
                    self.check_group()
                    try:
                        self.lag(cached=True)
                    except Exception:  # lag is best effort, never fatal
                        log.debug("lag query failed", exc_info=True)
                    last_lag = time.monotonic()  # after the query: however long it took, work comes first
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            if self._own_producer:
                self._producer.flush()
                self._producer.close()
