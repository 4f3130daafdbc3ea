"""The Kafka runtime against a real broker: round trips, dead letters, resume after restart."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from prometheus_client import CollectorRegistry

from contracts import ALL_TOPICS, DEADLETTER, TELEMETRY, KafkaSettings, Topic
from contracts.examples import example, telemetry
from contracts.topics import Topic as TopicType
from runtime import ConsumeLoop, Producer, Record, ensure_topics
from runtime.metrics import PipelineMetrics

pytestmark = pytest.mark.integration


@pytest.fixture(params=["kafka-python", "confluent"])
def transport_settings(request: pytest.FixtureRequest, kafka_settings: KafkaSettings) -> KafkaSettings:
    """The broker's settings with each client library of ``runtime/transport.py``."""
    return kafka_settings.model_copy(update={"transport": request.param})


def renamed(topic: TopicType, name: str) -> TopicType:
    """The same contract on a test-private topic name."""
    return Topic(name, topic.model, topic.key_of, topic.description)


def read_all(settings: KafkaSettings, name: str, expected: int, timeout_s: float = 30) -> list:
    consumer = KafkaConsumer(name, auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=2000, **settings.client_kwargs())
    out: list = []
    deadline = time.monotonic() + timeout_s
    while len(out) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            out.extend(batch)
    consumer.close()
    return out


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_every_topic_round_trips_through_the_broker(kafka_settings: KafkaSettings, unique: Callable,
                                                    topic: TopicType) -> None:
    private = renamed(topic, unique(topic.name))
    ensure_topics(kafka_settings, [private.name], partitions=1)
    msg = example(topic)
    with Producer(kafka_settings) as producer:
        producer.send(private, msg).get(timeout=30)
    [record] = read_all(kafka_settings, private.name, 1)
    assert record.key == topic.key(msg)
    assert private.decode(record.value) == msg


def run_until(loop: ConsumeLoop, done: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "consume loop did not finish in time"
        loop.poll_once()


def test_poison_message_goes_to_dead_letter_and_the_rest_is_processed(
        transport_settings: KafkaSettings, unique: Callable) -> None:
    tele, dlq = renamed(TELEMETRY, unique("tele")), renamed(DEADLETTER, unique("dlq"))
    ensure_topics(transport_settings, [tele.name, dlq.name], partitions=1)
    with Producer(transport_settings) as producer:
        producer.send(tele, telemetry(seq=0))
        producer.send_raw(tele.name, b'{"machine_id": "line-1/cnc-01", "oops": true}', b"line-1/cnc-01")
        producer.send_raw(tele.name, b"\xff\xfe not json", b"line-1/cnc-02")
        for seq in range(1, 6):
            producer.send(tele, telemetry(seq=seq))
    seen: list[int] = []
    registry = CollectorRegistry()
    loop = ConsumeLoop(transport_settings, [tele], unique("grp"), lambda rs: seen.extend(r.value.seq for r in rs),
                       "test", metrics=PipelineMetrics.create(registry))
    import runtime.consumer as rc
    original = rc.DEADLETTER
    rc.DEADLETTER = dlq  # route this test's dead letters to its private topic
    try:
        run_until(loop, lambda: len(seen) == 6 and loop.dead_lettered == 2)
    finally:
        rc.DEADLETTER = original
        loop.close()
    assert seen == [0, 1, 2, 3, 4, 5]
    letters = [dlq.decode(r.value) for r in read_all(transport_settings, dlq.name, 2)]
    assert [dl.source_offset for dl in letters] == [1, 2]
    assert all(dl.source_topic == tele.name and dl.stage == "test" for dl in letters)
    assert "oops" in letters[0].reason and letters[0].error_type == "ContractError"
    assert base64.b64decode(letters[1].value_b64) == b"\xff\xfe not json"  # original bytes kept whole
    assert registry.get_sample_value("linewatch_pipeline_messages_total",
                                     {"stage": "test", "outcome": "dead_letter"}) == 2
    assert registry.get_sample_value("linewatch_pipeline_messages_total", {"stage": "test", "outcome": "ok"}) == 6


def test_handler_rejects_go_to_dead_letter(transport_settings: KafkaSettings, unique: Callable) -> None:
    import runtime.consumer as rc
    from runtime import Rejected

    tele, dlq = renamed(TELEMETRY, unique("tele")), renamed(DEADLETTER, unique("dlq"))
    ensure_topics(transport_settings, [tele.name, dlq.name], partitions=1)
    with Producer(transport_settings) as producer:
        for seq in range(4):
            producer.send(tele, telemetry(seq=seq, machine_id="line-9/unknown-1" if seq == 2 else "line-1/cnc-01"))

    def handler(records: list[Record]) -> list[Rejected]:
        return [Rejected(r, "unknown machine", "UnknownMachine") for r in records if "unknown" in r.value.machine_id]

    loop = ConsumeLoop(transport_settings, [tele], unique("grp"), handler, "test",
                       metrics=PipelineMetrics.create(CollectorRegistry()))
    original, rc.DEADLETTER = rc.DEADLETTER, dlq
    try:
        run_until(loop, lambda: loop.processed + loop.dead_lettered == 4)
    finally:
        rc.DEADLETTER = original
        loop.close()
    [letter] = [dlq.decode(r.value) for r in read_all(transport_settings, dlq.name, 1)]
    assert letter.reason == "unknown machine" and letter.source_offset == 2


def test_restart_resumes_from_committed_offset_without_loss_or_duplicates(
        transport_settings: KafkaSettings, unique: Callable, tmp_path: Path) -> None:
    tele = renamed(TELEMETRY, unique("tele"))
    ensure_topics(transport_settings, [tele.name], partitions=3)
    n = 300
    with Producer(transport_settings) as producer:
        for seq in range(n):
            producer.send(tele, telemetry(seq=seq, machine_id=f"line-1/cnc-{seq % 5 + 1:02d}"))
    db = sqlite3.connect(tmp_path / "store.db")
    db.execute("CREATE TABLE processed (machine TEXT, seq INTEGER, part INTEGER, off INTEGER)")

    def handler(records: list[Record]) -> None:  # the "store-facing output"
        db.executemany("INSERT INTO processed VALUES (?, ?, ?, ?)",
                       [(r.value.machine_id, r.value.seq, r.partition, r.offset) for r in records])
        db.commit()  # durable before the loop commits offsets

    group = unique("grp")
    metrics = PipelineMetrics.create(CollectorRegistry())
    first = ConsumeLoop(transport_settings, [tele], group, handler, "test", max_records=40, metrics=metrics)
    run_until(first, lambda: first.processed >= 100)
    first.close()
    committed_after_first = db.execute("SELECT COUNT(*) FROM processed").fetchone()[0]
    assert 100 <= committed_after_first < n

    starts: dict[int, int] = {}
    def handler_noting_starts(records: list[Record]) -> None:
        for r in records:
            starts.setdefault(r.partition, r.offset)
        handler(records)

    second = ConsumeLoop(transport_settings, [tele], group, handler_noting_starts, "test", max_records=40,
                         metrics=metrics)
    run_until(second, lambda: db.execute("SELECT COUNT(*) FROM processed").fetchone()[0] >= n)
    second.close()
    rows = db.execute("SELECT seq, COUNT(*) FROM processed GROUP BY seq").fetchall()
    assert len(rows) == n, "a sample was lost"
    assert all(count == 1 for _, count in rows), "a sample was processed twice"
    # the second consumer started exactly where the first one committed, per partition
    for partition, offset in starts.items():
        done_before = db.execute("SELECT MAX(off) FROM processed WHERE part = ? AND rowid <= ?",
                                 (partition, committed_after_first)).fetchone()[0]
        assert offset == (done_before + 1 if done_before is not None else 0)


# ---------- poison records (docs/kafka.md "Poison records and dead letters")

def _with_dlq(dlq: TopicType):
    import runtime.consumer as rc

    class Swap:
        def __enter__(self):
            self.original, rc.DEADLETTER = rc.DEADLETTER, dlq

        def __exit__(self, *exc):
            rc.DEADLETTER = self.original
    return Swap()


def test_oversized_poison_record_is_summarised_and_the_loop_moves_on(kafka_settings: KafkaSettings,
                                                                     unique: Callable) -> None:
    import hashlib

    tele, dlq = renamed(TELEMETRY, unique("tele")), renamed(DEADLETTER, unique("dlq"))
    ensure_topics(kafka_settings, [tele.name, dlq.name], partitions=1)
    doc = json.loads(TELEMETRY.encode(telemetry(seq=1)))
    huge = json.dumps({**doc, "program": "x" * 1_000_000}).encode()  # under the broker limit, 1.33 MB as base64
    assert 1_000_000 < len(huge) < 1_048_000
    with Producer(kafka_settings, max_request_size=1_048_576) as producer:
        producer.send(tele, telemetry(seq=0))
        producer.send_raw(tele.name, huge, b"line-1/cnc-01")
        producer.send(tele, telemetry(seq=2))
    seen: list[int] = []
    loop = ConsumeLoop(kafka_settings, [tele], unique("grp"), lambda rs: seen.extend(r.value.seq for r in rs),
                       "test", metrics=PipelineMetrics.create(CollectorRegistry()))
    with _with_dlq(dlq):
        try:
            run_until(loop, lambda: len(seen) == 2 and loop.dead_lettered == 1)
            assert loop.lag() == 0  # committed up to the log end
        finally:
            loop.close()
    [letter] = [dlq.decode(r.value) for r in read_all(kafka_settings, dlq.name, 1)]
    assert letter.truncated and letter.value_bytes == len(huge)
    assert letter.value_sha256 == hashlib.sha256(huge).hexdigest()
    assert base64.b64decode(letter.value_b64) == huge[:4096]
    assert letter.source_offset == 1 and "program" in letter.reason and "summary" in letter.reason


def test_dead_letter_the_broker_refuses_is_sent_again_without_payload(kafka_settings: KafkaSettings,
                                                                      unique: Callable) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    tele, dlq = renamed(TELEMETRY, unique("tele")), renamed(DEADLETTER, unique("dlq"))
    ensure_topics(kafka_settings, [tele.name], partitions=1)
    admin = KafkaAdminClient(**kafka_settings.client_kwargs())
    admin.create_topics([NewTopic(dlq.name, 1, 1, topic_configs={"max.message.bytes": "20000"})])
    admin.close()
    with Producer(kafka_settings) as producer:
        producer.send_raw(tele.name, b"\xff" * 40_000, b"k")  # 53 KB as base64: over the topic's limit
    from runtime.consumer import ConsumeOptions

    loop = ConsumeLoop(kafka_settings, [tele], unique("grp"), lambda rs: None, "test",
                       metrics=PipelineMetrics.create(CollectorRegistry()),
                       options=ConsumeOptions(dead_letter_max_bytes=200_000))
    with _with_dlq(dlq):
        try:
            run_until(loop, lambda: loop.dead_lettered == 1)
        finally:
            loop.close()
    [letter] = [dlq.decode(r.value) for r in read_all(kafka_settings, dlq.name, 1)]
    assert letter.truncated and letter.value_b64 == "" and letter.value_bytes == 40_000
    assert "dead letter refused" in letter.reason and "TooLarge" in letter.reason


def test_record_that_keeps_failing_is_dead_lettered_after_n_attempts_across_restarts(
        kafka_settings: KafkaSettings, unique: Callable) -> None:
    """A handler that raises on one record: each 'restart' (a new loop, as a supervisor or a
    process restart would make) retries it alone; after max_failures it is dead-lettered and
    every other record is processed exactly as if it had not been there."""
    from runtime.consumer import ConsumeOptions, LoopProgress

    tele, dlq = renamed(TELEMETRY, unique("tele")), renamed(DEADLETTER, unique("dlq"))
    ensure_topics(kafka_settings, [tele.name, dlq.name], partitions=1)
    with Producer(kafka_settings) as producer:
        for seq in range(30):
            producer.send(tele, telemetry(seq=seq))
    done: list[int] = []
    attempts = {"poison": 0}

    def handler(records: list[Record]) -> None:
        for r in records:
            if r.value.seq == 17:
                attempts["poison"] += 1
                raise ValueError("cannot score seq 17")
        done.extend(r.value.seq for r in records)

    group, progress = unique("grp"), LoopProgress()
    restarts = 0
    with _with_dlq(dlq):
        while len(set(done)) < 29:
            assert restarts < 10, "restart loop without progress"
            loop = ConsumeLoop(kafka_settings, [tele], group, handler, "test", max_records=10,
                               metrics=PipelineMetrics.create(CollectorRegistry()), progress=progress,
                               options=ConsumeOptions(max_failures=3))
            try:
                run_until(loop, lambda: len(set(done)) >= 29 and loop.lag() == 0)  # noqa: B023 - called in this iteration
            except ValueError as exc:
                progress.failed(exc)
                restarts += 1
            finally:
                loop.close()
    assert sorted(set(done)) == [s for s in range(30) if s != 17]
    assert attempts["poison"] == 1 + 3 and restarts == 4  # once in its batch, then 3 times alone
    assert progress.check(3)[0]  # committed since: healthy again
    [letter] = [dlq.decode(r.value) for r in read_all(kafka_settings, dlq.name, 1)]
    assert letter.source_offset == 17 and letter.error_type == "ProcessingFailed" and letter.attempts == 3
    assert "cannot score seq 17" in letter.reason
    assert tele.decode(base64.b64decode(letter.value_b64)).seq == 17  # whole record kept: replayable


def test_transient_errors_are_retried_and_never_dead_letter_a_record(kafka_settings: KafkaSettings,
                                                                    unique: Callable) -> None:
    from runtime.consumer import ConsumeOptions, LoopProgress

    tele = renamed(TELEMETRY, unique("tele"))
    ensure_topics(kafka_settings, [tele.name], partitions=1)
    with Producer(kafka_settings) as producer:
        for seq in range(5):
            producer.send(tele, telemetry(seq=seq))
    fails = {"left": 5}
    done: list[int] = []

    def handler(records: list[Record]) -> None:
        if fails["left"]:
            fails["left"] -= 1
            raise ConnectionError("store unreachable")
        done.extend(r.value.seq for r in records)

    group, progress = unique("grp"), LoopProgress()
    stalled = []
    for _ in range(8):
        loop = ConsumeLoop(kafka_settings, [tele], group, handler, "test",
                           metrics=PipelineMetrics.create(CollectorRegistry()), progress=progress,
                           options=ConsumeOptions(max_failures=2))
        try:
            run_until(loop, lambda: len(done) == 5)
            break
        except ConnectionError as exc:
            progress.failed(exc)
            stalled.append(progress.check(3))
        finally:
            loop.close()
    assert done == [0, 1, 2, 3, 4] and loop.dead_lettered == 0
    assert [ok for ok, _ in stalled] == [True, True, False, False, False]
    assert "restarting without progress" in stalled[-1][1] and "store unreachable" in stalled[-1][1]


def test_lag_is_committed_offset_against_the_log_end(kafka_settings: KafkaSettings, unique: Callable) -> None:
    tele = renamed(TELEMETRY, unique("tele"))
    ensure_topics(kafka_settings, [tele.name], partitions=2)
    with Producer(kafka_settings) as producer:
        for seq in range(40):
            producer.send(tele, telemetry(seq=seq, machine_id=f"line-1/cnc-{seq % 4 + 1:02d}"))
    registry = CollectorRegistry()
    loop = ConsumeLoop(kafka_settings, [tele], unique("grp"), lambda rs: None, "test", max_records=10,
                       metrics=PipelineMetrics.create(registry))
    try:
        run_until(loop, lambda: loop.processed > 0)
        assert loop.lag() == 40 - loop.processed
        assert registry.get_sample_value("linewatch_pipeline_consumer_lag_messages", {"stage": "test"}) == \
            40 - loop.processed
        run_until(loop, lambda: loop.processed == 40)
        assert loop.lag() == 0
    finally:
        loop.close()


def test_replay_sends_dead_lettered_bytes_back_and_skips_summaries(kafka_settings: KafkaSettings,
                                                                   unique: Callable) -> None:
    from runtime.replay import matcher, replay

    tele, dlq, back = renamed(TELEMETRY, unique("tele")), renamed(DEADLETTER, unique("dlq")), unique("back")
    ensure_topics(kafka_settings, [tele.name, dlq.name, back], partitions=1)
    with Producer(kafka_settings) as producer:
        producer.send_raw(tele.name, b'{"not": "a sample"}', b"line-1/cnc-01")
        producer.send_raw(tele.name, b"x" * 900_000, b"line-1/cnc-02")  # dead-lettered as a summary
        producer.send(tele, telemetry(seq=1))
    loop = ConsumeLoop(kafka_settings, [tele], unique("grp"), lambda rs: None, "test",
                       metrics=PipelineMetrics.create(CollectorRegistry()))
    with _with_dlq(dlq):
        try:
            run_until(loop, lambda: loop.dead_lettered == 2 and loop.processed == 1)
        finally:
            loop.close()
    dry = replay(kafka_settings, deadletter_topic=dlq.name, to_topic=back, dry_run=True)
    assert (dry.matched, dry.replayed, len(dry.summaries)) == (2, 1, 1)
    report = replay(kafka_settings, keep=matcher(stage="test", error_type="ContractError"),
                    deadletter_topic=dlq.name, to_topic=back)
    assert report.replayed == 1 and report.summaries == [f"{tele.name}[0]@1"]
    [record] = read_all(kafka_settings, back, 1)
    assert record.value == b'{"not": "a sample"}' and record.key == b"line-1/cnc-01"
    assert replay(kafka_settings, keep=matcher(stage="other"), deadletter_topic=dlq.name).matched == 0


def test_ensure_topics_gives_telemetry_its_size_limit_also_on_an_existing_topic(kafka_settings):
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    ensure_topics(kafka_settings, [TELEMETRY.name])
    admin = KafkaAdminClient(**kafka_settings.client_kwargs())
    resource = [ConfigResource(ConfigResourceType.TOPIC, TELEMETRY.name)]

    def limit() -> str:
        return admin.describe_configs(resource)["topic"][TELEMETRY.name]["max.message.bytes"]["value"]

    try:
        assert limit() == str(TELEMETRY.max_message_bytes) == "8388608"
        assert admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, TELEMETRY.name,
                                                   configs={"max.message.bytes": "1048588"})]) == {
            "topic": {TELEMETRY.name: "OK"}}
        assert limit() == "1048588"  # a topic made before the limit existed
        assert ensure_topics(kafka_settings, [TELEMETRY.name]) == []  # nothing created, the config aligned
        assert limit() == "8388608"
    finally:
        admin.close()


def test_both_transports_put_a_key_in_the_partition_the_rebuild_expects(kafka_settings: KafkaSettings,
                                                                        unique: Callable) -> None:
    """A machine's samples keep their order only if every client hashes its key the same way."""
    from pipelines.scoring.rebuild import partition_of

    name = unique("t-keys")
    ensure_topics(kafka_settings, [name], partitions=3)
    keys = [f"line-{i}/cnc-{j:02d}" for i in range(4) for j in range(5)]
    for transport in ("kafka-python", "confluent"):
        with Producer(kafka_settings.model_copy(update={"transport": transport})) as producer:
            for key in keys:
                producer.send_raw(name, transport.encode(), key.encode())
    got = read_all(kafka_settings, name, 2 * len(keys))
    assert len(got) == 2 * len(keys)
    where = {(r.value.decode(), r.key.decode()): r.partition for r in got}
    assert len(set(where.values())) > 1  # the keys spread over the partitions
    for key in keys:
        assert where["kafka-python", key] == where["confluent", key] == partition_of(key, 3), key
