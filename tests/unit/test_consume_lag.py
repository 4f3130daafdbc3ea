"""The consume loop's lag gauge: it never takes the place of work, and it uses the client's
cached log ends (a librdkafka watermark query per partition cost 0.2-0.5 s; run after every
batch it held a scorer to 500 records per 6 s)."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import TopicPartition

from contracts import TELEMETRY, KafkaSettings
from runtime import consumer as consume
from runtime import transport

TP = TopicPartition(TELEMETRY.name, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class SlowLagConsumer:
    """A consumer whose polls take 10 ms and whose log-end queries take 200 ms (on ``clock``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.polls = 0
        self.end_queries: list[bool] = []  # the ``cached`` flag of each query
        self.start_queries = 0
        self.committed_offset: int | None = 20

    def partitions_for_topic(self, _topic: str) -> set[int]:
        return {0}

    def subscribe(self, *_: Any, **__: Any) -> None:
        pass

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict:
        self.clock.now += 0.01
        self.polls += 1
        return {}

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def end_offsets(self, tps: list[TopicPartition], cached: bool = False) -> dict[TopicPartition, int]:
        self.end_queries.append(cached)
        self.clock.now += 0.2
        return {tp: 50 for tp in tps}

    def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.start_queries += 1
        self.clock.now += 0.2
        return {tp: 5 for tp in tps}

    def committed(self, _tp: TopicPartition, **__: Any) -> int | None:
        return self.committed_offset

    def commit(self, *_: Any, **__: Any) -> None:
        pass

    def close(self, *_: Any, **__: Any) -> None:
        pass


class NoProducer:
    def flush(self, *_: Any) -> None:
        pass

    def close(self, *_: Any, **__: Any) -> None:
        pass


@pytest.fixture
def loop(monkeypatch: pytest.MonkeyPatch) -> tuple[consume.ConsumeLoop, SlowLagConsumer]:
    clock = Clock()
    fake = SlowLagConsumer(clock)
    monkeypatch.setattr(consume.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(transport, "consumer", lambda *_a, **_k: fake)
    monkeypatch.setattr(transport, "ConfluentConsumer", SlowLagConsumer)  # the cached path is taken for it
    loop = consume.ConsumeLoop(KafkaSettings(), [TELEMETRY], "g", lambda _records: [], "test",
                               producer=NoProducer())  # type: ignore[arg-type]
    return loop, fake


def test_a_slow_lag_query_runs_once_per_interval_of_work_not_after_every_poll(loop) -> None:
    consume_loop, fake = loop
    consume_loop.run(until=lambda: fake.polls >= 200, lag_every_s=0.1)  # the query (0.2 s) outlasts the interval
    # 200 polls of 10 ms = 2 s of work: one query per 0.1 s of it (about 20), not one after every poll
    assert 15 <= len(fake.end_queries) <= 25, len(fake.end_queries)


def test_the_periodic_gauge_uses_cached_log_ends_and_a_direct_call_asks_the_broker(loop) -> None:
    consume_loop, fake = loop
    consume_loop.run(until=lambda: fake.polls >= 10, lag_every_s=0.0)
    assert fake.end_queries and all(fake.end_queries)
    fake.end_queries.clear()
    assert consume_loop.lag() == 30  # log end 50 - committed 20
    assert fake.end_queries == [False]


def test_the_periodic_gauge_asks_for_the_log_start_of_an_uncommitted_partition_once(loop) -> None:
    consume_loop, fake = loop
    fake.committed_offset = None  # nothing committed yet (e.g. the events topic before its first event)
    consume_loop.run(until=lambda: fake.polls >= 50, lag_every_s=0.0)
    assert len(fake.end_queries) >= 40 and fake.start_queries == 1  # one query, not one per gauge
    assert consume_loop.lag(cached=True) == 45  # log end 50 - log start 5
    assert fake.start_queries == 1
    assert consume_loop.lag() == 45 and fake.start_queries == 2  # a direct call asks the broker again


class Heartbeat:
    def __init__(self, clock: Clock) -> None:
        self.last_receive = clock.now
        self.last_reset = clock.now


class Coordinator:
    def __init__(self, clock: Clock) -> None:
        self.heartbeat = Heartbeat(clock)


def test_a_consumer_whose_group_heartbeats_stopped_is_given_up_so_it_can_be_rebuilt(loop) -> None:
    consume_loop, fake = loop
    coordinator = fake._coordinator = Coordinator(fake.clock)  # noqa: SLF001 - kafka-python's private one, faked
    consume_loop.run(until=lambda: fake.polls >= 20, lag_every_s=0.1)  # heartbeats fresh: runs on
    with pytest.raises(consume.GroupMembershipLost, match="lost its group membership"):
        consume_loop.run(until=lambda: fake.polls >= 10_000, lag_every_s=0.1)  # no answer for > 45 s
    assert fake.clock.now - coordinator.heartbeat.last_receive > 45


def test_no_heartbeat_before_the_first_assignment_is_not_a_lost_group(loop, monkeypatch) -> None:
    consume_loop, fake = loop
    fake._coordinator = Coordinator(fake.clock)  # noqa: SLF001 - kafka-python's private one, faked
    monkeypatch.setattr(fake, "assignment", lambda: set())  # still joining
    consume_loop.run(until=lambda: fake.polls >= 10_000, lag_every_s=0.1)  # 100 s of polls, no raise
