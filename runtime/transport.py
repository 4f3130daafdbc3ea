"""Which Kafka client library the consume loop and the producer use: a thin seam.

``KafkaSettings.transport`` (env ``LINEWATCH_KAFKA__TRANSPORT``) picks it:

- ``kafka-python`` (default): pure Python, always installed;
- ``confluent``: librdkafka through ``confluent-kafka`` (extra ``linewatch[librdkafka]``),
  several times faster per record (docs/scoring.md, benchmark).

Both are used through the kafka-python vocabulary the runtime already speaks
(``poll`` -> ``{TopicPartition: [records]}``, ``commit({tp: OffsetAndMetadata})``,
rebalance listeners with ``on_partitions_revoked/assigned``), so the consume loop keeps
one code path: offsets are committed only after the handler made its outputs durable,
rejects go to the dead-letter topic, whatever the library.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from contracts.settings import KafkaSettings

log = logging.getLogger(__name__)


def consumer(settings: KafkaSettings, **kw: Any) -> Any:
    """A consumer with kafka-python's interface, for ``settings.transport``."""
    if settings.transport == "confluent":
        return ConfluentConsumer(settings, **kw)
    return KafkaConsumer(**kw)


class Delivery(Protocol):
    """What a producer's ``send`` returns: ``get()`` waits for the delivery (raises if it failed)."""

    def get(self, timeout: float | None = None) -> object: ...


class ProducerClient(Protocol):
    """The part of kafka-python's ``KafkaProducer`` the runtime uses (both transports have it)."""

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Delivery: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


def producer(settings: KafkaSettings, **kw: Any) -> ProducerClient:
    """A producer with kafka-python's ``send/flush/close``, for ``settings.transport``."""
    if settings.transport == "confluent":
        return ConfluentProducer(settings, **kw)
    client: ProducerClient = KafkaProducer(**kw)  # kafka-python is untyped; it has these three methods
    return client


# ---------- librdkafka

# Connection and security come from ``KafkaSettings.librdkafka_config()`` (the one mapping
# of TLS/SASL); the kafka-python keywords of those are skipped here.
_CONNECTION = {"bootstrap_servers", "client_id", "security_protocol", "sasl_mechanism", "sasl_plain_username",
               "sasl_plain_password", "ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_password",
               "ssl_check_hostname", "bootstrap_timeout_ms"}
# kafka-python keyword -> librdkafka property (the client options LineWatch sets)
_CONFIG = {
    "request_timeout_ms": "socket.timeout.ms",
    "group_id": "group.id", "enable_auto_commit": "enable.auto.commit", "auto_offset_reset": "auto.offset.reset",
    "session_timeout_ms": "session.timeout.ms", "heartbeat_interval_ms": "heartbeat.interval.ms",
    "metadata_max_age_ms": "metadata.max.age.ms", "max_poll_interval_ms": "max.poll.interval.ms",
    "acks": "acks", "enable_idempotence": "enable.idempotence", "retries": "retries", "linger_ms": "linger.ms",
    "max_in_flight_requests_per_connection": "max.in.flight.requests.per.connection",
    "delivery_timeout_ms": "delivery.timeout.ms", "compression_type": "compression.type",
    "max_request_size": "message.max.bytes",
}
_DROPPED = {"max_poll_records", "api_version", "consumer_timeout_ms"}  # per-call or not a librdkafka setting


def librdkafka_options(settings: KafkaSettings, kw: dict[str, Any]) -> dict[str, Any]:
    """librdkafka configuration: the connection and security of ``settings`` plus the
    kafka-python client keywords ``kw`` under their librdkafka names."""
    conf: dict[str, Any] = dict(settings.librdkafka_config())
    for key, value in kw.items():
        if key in _DROPPED or key in _CONNECTION or value is None:
            continue
        if key not in _CONFIG:
            raise ValueError(f"kafka setting {key!r} has no librdkafka equivalent in runtime/transport.py")
        conf[_CONFIG[key]] = value
    if conf.get("group.id") is None:
        conf.pop("group.id", None)
    return conf


def end_offsets(consumer: Any, tps: list[TopicPartition], cached: bool = False) -> dict[TopicPartition, int]:
    """Log end per partition. ``cached``: librdkafka's high watermark from its last fetch of the
    partition where it has one (no broker request; a gauge may trail by one fetch). librdkafka
    asks the broker once per partition otherwise, which cost 0.2-0.5 s each while the same
    connection served fetches: a lag gauge over 6 partitions took 3-6 s, run after every batch,
    and a scorer drained a backlog at 500 records per 6 s. kafka-python asks for all partitions
    in one request."""
    if cached and isinstance(consumer, ConfluentConsumer):
        return consumer.end_offsets(tps, cached=True)
    ends: dict[TopicPartition, int] = consumer.end_offsets(tps)
    return ends


def _ck() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:  # the optional extra is not installed
        raise RuntimeError("LINEWATCH_KAFKA__TRANSPORT=confluent needs confluent-kafka: "
                           "pip install 'linewatch[librdkafka]'") from exc
    return confluent_kafka


class ConsumerRecord(NamedTuple):
    """The fields of kafka-python's ``ConsumerRecord`` the runtime reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int


class ConfluentConsumer:
    """librdkafka consumer behind the subset of ``KafkaConsumer`` the runtime uses."""

    def __init__(self, settings: KafkaSettings, **kw: Any) -> None:
        self._ck = _ck()
        self._max_records = int(kw.get("max_poll_records", 500))
        self._group = kw.get("group_id") is not None
        conf = librdkafka_options(settings, kw)
        if not self._group:  # group-less readers (assign + seek) still need a group.id in librdkafka
            conf["group.id"] = "linewatch-groupless"
            conf["enable.auto.commit"] = False
        self._c = self._ck.Consumer(conf, logger=log)
        self._assigned: dict[TopicPartition, int] = {}

    # ---------- group
    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        def on_assign(_c: Any, parts: list[Any]) -> None:
            if listener is not None:
                listener.on_partitions_assigned({TopicPartition(p.topic, p.partition) for p in parts})

        def on_revoke(_c: Any, parts: list[Any]) -> None:
            if listener is not None:
                listener.on_partitions_revoked({TopicPartition(p.topic, p.partition) for p in parts})

        self._c.subscribe(list(topics), on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(p.topic, p.partition) for p in self._c.assignment()}

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[ConsumerRecord]]:
        msgs = self._c.consume(num_messages=max_records or self._max_records, timeout=timeout_ms / 1000)
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == self._ck.KafkaError._PARTITION_EOF:  # noqa: SLF001 - confluent-kafka's public name for it
                    continue
                if err.fatal():
                    raise self._ck.KafkaException(err)
                log.warning("kafka: %s", err)
                continue
            tp = TopicPartition(m.topic(), m.partition())
            batch = out.get(tp)
            if batch is None:
                batch = out[tp] = []
            batch.append(ConsumerRecord(tp.topic, tp.partition, m.offset(), m.key(), m.value(), m.timestamp()[1]))
        return out

    def commit(self, offsets: dict[TopicPartition, Any] | None = None) -> None:
        if offsets is None:
            self._c.commit(asynchronous=False)
            return
        parts = [self._ck.TopicPartition(tp.topic, tp.partition, om.offset) for tp, om in offsets.items()]
        self._c.commit(offsets=parts, asynchronous=False)

    # ---------- offsets and metadata
    def partitions_for_topic(self, topic: str) -> set[int] | None:
        meta = self._c.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None:
            return None
        return set(meta.partitions)

    def _watermarks(self, tp: TopicPartition, cached: bool = False) -> tuple[int, int]:
        part = self._ck.TopicPartition(tp.topic, tp.partition)
        if cached:
            low, high = self._c.get_watermark_offsets(part, cached=True)
            if high >= 0:  # known from a fetch of this partition
                return int(low), int(high)
        low, high = self._c.get_watermark_offsets(part, timeout=10)
        return int(low), int(high)

    def end_offsets(self, tps: list[TopicPartition], cached: bool = False) -> dict[TopicPartition, int]:
        return {tp: self._watermarks(tp, cached)[1] for tp in tps}

    def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self._watermarks(tp)[0] for tp in tps}

    def committed(self, tp: TopicPartition) -> int | None:
        got = self._c.committed([self._ck.TopicPartition(tp.topic, tp.partition)], timeout=10)[0]
        return got.offset if got.offset >= 0 else None

    def position(self, tp: TopicPartition) -> int:
        got = self._c.position([self._ck.TopicPartition(tp.topic, tp.partition)])[0]
        if got.offset >= 0:
            return int(got.offset)
        return self.committed(tp) or self._watermarks(tp)[0]

    # ---------- manual assignment (group-less readers)
    def assign(self, tps: list[TopicPartition]) -> None:
        self._assigned = {tp: self._ck.OFFSET_STORED for tp in tps}
        self._reassign()

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._assigned[tp] = offset
        self._reassign()

    def _reassign(self) -> None:
        self._c.assign([self._ck.TopicPartition(tp.topic, tp.partition, off) for tp, off in self._assigned.items()])

    def close(self, *_: Any, **__: Any) -> None:
        self._c.close()


class _Sent:
    """What ``send`` returns: ``get()`` waits until every queued message is delivered and
    raises if one failed for good (kafka-python's future, as far as the runtime uses it)."""

    __slots__ = ("_owner",)

    def __init__(self, owner: ConfluentProducer) -> None:
        self._owner = owner

    def get(self, timeout: float | None = None) -> None:
        self._owner.flush(timeout)


class ConfluentProducer:
    """librdkafka producer behind ``KafkaProducer``'s ``send/flush/close``. ``flush`` raises
    if a message failed for good, so "flushed" still means "durable" to the consume loop."""

    def __init__(self, settings: KafkaSettings, **kw: Any) -> None:
        self._ck = _ck()
        conf = librdkafka_options(settings, kw)
        # librdkafka's default partitioner hashes keys with CRC32; the Java client, kafka-python
        # and the state rebuild (pipelines/scoring/rebuild.py) use murmur2. One machine's samples
        # must land in one partition whichever client sent them, or its order is lost.
        conf.setdefault("partitioner", "murmur2_random")
        self._p = self._ck.Producer(conf, logger=log)
        self._failed: list[Any] = []
        self._sent = _Sent(self)

    def _delivered(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self._failed.append(err)

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> _Sent:
        while True:
            try:
                self._p.produce(topic, value=value, key=key, on_delivery=self._delivered)
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                self._p.poll(0.05)
        return self._sent

    def flush(self, timeout: float | None = None) -> None:
        left = self._p.flush(-1 if timeout is None else timeout)
        if self._failed:
            err, self._failed = self._failed[0], []
            raise self._ck.KafkaException(err)
        if left:
            raise TimeoutError(f"{left} messages not delivered within {timeout} s")

    def close(self, timeout: float | None = None) -> None:
        self._p.flush(-1 if timeout is None else timeout)
