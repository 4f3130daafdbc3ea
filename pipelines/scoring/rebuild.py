"""Rebuild per-machine state after partitions are assigned: replay the window from Kafka.

For each newly assigned telemetry partition, a separate group-less consumer reads from
``committed − depth`` up to the committed offset, where ``depth`` is the model's
history (``FeatureSpec.max_window``) times the number of plant machines whose key hashes
to that partition (Kafka's murmur2 partitioner), times a safety factor. Those records
refill the windows and advance the alert rules silently; the group consumer then resumes
at the committed offset, so the next windows score exactly as if nothing had happened.
Counter events come from the store (written by the persist stage) plus a replay of the
events partition, deduplicated by event id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

from contracts.errors import ContractError
from contracts.settings import KafkaSettings
from contracts.topics import EVENTS, TELEMETRY
from pipelines.scoring.engine import ScoringEngine
from pipelines.scoring.sanity import TimeRules, screen

log = logging.getLogger(__name__)
SAFETY = 1.5


def partition_of(machine_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner puts this key in."""
    hashed: int = murmur2(machine_id.encode())  # kafka-python's partitioner hash (untyped)
    return (hashed & 0x7FFFFFFF) % partitions


def replay_targets(consumer: Any, tps: list[TopicPartition], depth: Callable[[TopicPartition], int]
                   ) -> dict[TopicPartition, tuple[int, int]]:
    """(start, stop) offsets to replay per partition; partitions without a commit need none."""
    targets = {}
    begins = consumer.beginning_offsets(tps) if tps else {}
    for tp in tps:
        committed = consumer.committed(tp)
        if committed is None or committed <= begins[tp]:
            continue
        targets[tp] = (max(begins[tp], committed - depth(tp)), committed)
    return targets


def read_range(settings: KafkaSettings, targets: dict[TopicPartition, tuple[int, int]],
               on_record: Callable[[Any], None], timeout_s: float = 120.0) -> int:
    """Read each partition from start to stop (exclusive) and hand every record over."""
    if not targets:
        return 0
    reader = KafkaConsumer(group_id=None, enable_auto_commit=False, max_poll_records=5000,
                           **settings.client_kwargs())
    try:
        reader.assign(list(targets))
        for tp, (start, _) in targets.items():
            reader.seek(tp, start)
        left = {tp for tp, (start, stop) in targets.items() if start < stop}
        n, deadline = 0, time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            for tp, batch in reader.poll(timeout_ms=500).items():
                stop = targets[tp][1]
                for rec in batch:
                    if rec.offset < stop:
                        on_record(rec)
                        n += 1
                if reader.position(tp) >= stop:
                    left.discard(tp)
                    reader.pause(tp)
        if left:
            log.warning("state rebuild stopped before the committed offset on %s", sorted(map(str, left)))
        return n
    finally:
        reader.close()


def rebuild(engine: ScoringEngine, settings: KafkaSettings, consumer: Any, assigned: list[TopicPartition],
            store_events: Callable[[list[str]], list[Any]] | None, event_depth: int,
            machines_of: dict[TopicPartition, set[str]] | None = None,
            time_rules: TimeRules | None = None,
            store_scored: Callable[[list[str]], dict[str, Any]] | None = None) -> tuple[int, set[str]]:
    """Refill ``engine`` for newly assigned partitions; returns (records replayed, machines seen).

    ``machines_of`` (partition → machines) is filled in, so a later revocation forgets them.
    ``store_scored`` (machine ids → newest stored score time) sets the ordering ceilings of
    the replay (``buffers.py``)."""
    machines_of = {} if machines_of is None else machines_of
    tel = [tp for tp in assigned if tp.topic == TELEMETRY.name]
    evs = [tp for tp in assigned if tp.topic == EVENTS.name]
    counts: dict[int, int] = {}
    n_parts = len(consumer.partitions_for_topic(TELEMETRY.name) or ()) or 1
    for machine_id in engine.kinds:
        p = partition_of(machine_id, n_parts)
        counts[p] = counts.get(p, 0) + 1
    history = engine.history_rows()
    machines: set[str] = set()
    parts = {tp.partition for tp in tel}
    if store_scored is not None and tel:
        engine.set_ceilings(store_scored(sorted(m for m in engine.kinds if partition_of(m, n_parts) in parts)))
    rules = time_rules or TimeRules()
    sensors_of = {m.id: frozenset(s.name for s in m.sensors) for m in engine.plant.machines()}

    def on_telemetry(rec: Any) -> None:
        try:
            sample = TELEMETRY.decode(rec.value)
        except ContractError:
            return  # dead-lettered when it was first read
        sensors = sensors_of.get(sample.machine_id)
        if sensors is None or screen(sample, rec.timestamp, rules, sensors) is not None:
            return  # unknown machine or quarantined: dead-lettered when it was first read, never in a window
        engine.ingest(sample, rec.timestamp, replay=True)
        machines.add(sample.machine_id)
        machines_of.setdefault(TopicPartition(rec.topic, rec.partition), set()).add(sample.machine_id)

    depth = lambda tp: int(history * max(1, counts.get(tp.partition, 0)) * SAFETY)
    try:
        n = read_range(settings, replay_targets(consumer, tel, depth), on_telemetry)
    finally:
        engine.clear_ceilings()
    if store_events is not None and machines:
        for event in store_events(sorted(machines)):
            engine.add_event(event)

    def on_event(rec: Any) -> None:
        try:
            engine.add_event(EVENTS.decode(rec.value))
        except ContractError:
            return

    n += read_range(settings, replay_targets(consumer, evs, lambda tp: event_depth), on_event)
    engine.score_pending()  # replayed windows: the alert rules catch up, nothing is emitted
    engine.needs_restore(machines)
    return n, machines
