"""The scoring worker and persist stage against the real broker and a real SQLite store."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import func, select

from contracts.messages import PartCompleted
from contracts.plant import load_plant
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import ALERTS, DEADLETTER, EVENTS, SCORES, TELEMETRY
from pipelines.persist.worker import PersistWorker
from pipelines.scoring.rebuild import partition_of
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import renamed_plant, samples
from runtime.admin import ensure_topics
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from store import Store, schema

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)
PER_MACHINE = 60
STEP = 5


def count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def read_topic(settings: KafkaSettings, topic: str, prefix: str) -> list[dict]:
    consumer = KafkaConsumer(topic, group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=3000,
                             **settings.client_kwargs())
    try:
        return [json.loads(r.value) for r in consumer if (r.key or b"").decode().startswith(prefix)]
    finally:
        consumer.close()


def run_until(worker, done, timeout_s: float = 90.0) -> None:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    next_note = time.monotonic() + 10
    while not done() and time.monotonic() < deadline:
        time.sleep(0.3)
        if time.monotonic() > next_note and worker.loop is not None:  # shown with the failure
            next_note += 10
            log.info("worker handled %d records, dead-lettered %d", worker.loop.processed, worker.loop.dead_lettered)
    worker.stop()
    thread.join(30)
    assert not thread.is_alive()


@pytest.mark.parametrize("transport", ["kafka-python", "confluent"])
def test_worker_scores_stores_publishes_and_dead_letters_bad_input(kafka_settings, unique, registry_dir, tmp_path,
                                                                   transport):
    kafka_settings = kafka_settings.model_copy(update={"transport": transport})
    prefix = unique("s")
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    ensure_topics(kafka_settings, [t.name for t in (TELEMETRY, EVENTS, SCORES, ALERTS, DEADLETTER)])
    items = list(samples(plant, PER_MACHINE, degrading=(plant.machines()[1].id,)))
    cnc = items[0]
    with Producer(kafka_settings) as producer:
        for s in items:
            producer.send(TELEMETRY, s)
        producer.send(TELEMETRY, cnc)  # duplicate: dropped and counted
        producer.send_raw(TELEMETRY.name, b"{not json", cnc.machine_id.encode())
        nan = cnc.model_dump(mode="json") | {"seq": 999}
        nan["signals"] = {**nan["signals"], "spindle_speed_rpm": float("nan")}
        producer.send_raw(TELEMETRY.name, json.dumps(nan).encode(), cnc.machine_id.encode())
        producer.send(TELEMETRY, cnc.model_copy(update={"machine_id": f"{prefix}-line-9/cnc-01"}))
    store = Store.open(StoreSettings(url=f"sqlite:///{tmp_path}/lw.db"))
    settings = ScoringSettings(kafka=kafka_settings, registry_dir=registry_dir, store=store_settings(tmp_path),
                               scoring=ScoringOptions(group_id=unique("g"), score_every=STEP, max_records=500))
    worker = ScoringWorker(settings, plant=plant, store=store)
    expected = len(plant.machines()) * PER_MACHINE // STEP
    run_until(worker, lambda: count(store, schema.scores) >= expected
              and worker.metrics.outcomes.labels("unknown_machine")._value.get() >= 1)  # noqa: SLF001 - child count

    assert count(store, schema.scores) == expected, diagnose(settings, store, plant)
    published = read_topic(kafka_settings, SCORES.name, prefix)
    assert len({s["score_id"] for s in published}) == expected
    dead = [d for d in read_topic(kafka_settings, DEADLETTER.name, prefix) if d["stage"] == "scoring"]
    reasons = sorted(d["error_type"] for d in dead)
    assert reasons == ["ContractError", "ContractError", "UnknownMachine"], dead
    assert any("not finite" in d["reason"] or "NaN" in d["reason"] for d in dead)
    reg = worker.metrics.registry
    assert reg.get_sample_value("linewatch_scoring_records_total", {"outcome": "duplicate"}) == 1
    assert reg.get_sample_value("linewatch_scoring_end_to_end_latency_seconds_count") == expected
    assert reg.get_sample_value("linewatch_scoring_model_info", {"kind": "cnc", "version": worker.engine.bundles[
        "cnc"].version}) == 1
    assert count(store, schema.alerts) >= 1  # the degrading machine
    alerts = read_topic(kafka_settings, ALERTS.name, prefix)
    assert all(a["message_zh"] and a["message_en"] for a in alerts)


def diagnose(settings: ScoringSettings, store: Store, plant) -> str:
    """Where the worker stood when the wait ended: per machine its scores, per partition the
    group's committed offset against the log end (a partition left behind shows here)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.scores.c.machine_id, func.count()).group_by(schema.scores.c.machine_id))
        scored = dict(rows.all())
    probe = KafkaConsumer(group_id=settings.scoring.group_id, enable_auto_commit=False,
                          **settings.kafka.client_kwargs())
    try:
        parts = [TopicPartition(TELEMETRY.name, p) for p in sorted(probe.partitions_for_topic(TELEMETRY.name))]
        ends = probe.end_offsets(parts)
        where = {tp.partition: f"{probe.committed(tp)}/{ends[tp]}" for tp in parts}
    finally:
        probe.close()
    per_machine = [(m.id, partition_of(m.id, len(parts)), scored.get(m.id, 0)) for m in plant.machines()]
    return f"(machine, partition, scores) {per_machine}; committed/end per partition {where}"


def store_settings(tmp_path: Path) -> StoreSettings:
    return StoreSettings(url=f"sqlite:///{tmp_path}/lw.db")


def test_persist_writes_events_and_minutes_idempotently(kafka_settings, unique, tmp_path):
    prefix = unique("p")
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    ensure_topics(kafka_settings, [TELEMETRY.name, EVENTS.name, DEADLETTER.name])
    items = list(samples(plant, 5))
    machine = plant.machines()[0].id
    parts = [PartCompleted(event_id=f"{machine}:part:{i}", machine_id=machine, ts=items[i * 10].ts, part_id=f"P{i}",
                           cycle_time_s=90, ideal_cycle_time_s=88, energy_kwh=0.3, good=i != 1) for i in range(3)]
    with Producer(kafka_settings) as producer:
        for s in items:
            producer.send(TELEMETRY, s)
        for p in parts + parts[:1]:  # one event delivered twice
            producer.send(EVENTS, p)
        producer.send(EVENTS, parts[0].model_copy(update={"machine_id": f"{prefix}-line-9/x-1"}))
    store = Store.open(store_settings(tmp_path))
    settings = LineWatchSettings(kafka=kafka_settings, store=store_settings(tmp_path))
    for _ in range(2):  # a second group replays everything: nothing may change
        worker = PersistWorker(settings, plant=plant, store=store, group_id=unique("pg"))
        # wait until the worker has handled every record sent (telemetry and events, across all partitions):
        # the one dead letter alone can arrive before some telemetry partitions were read
        sent_ok = len(items) + len(parts) + 1
        run_until(worker, lambda: worker.pipeline.messages.labels("persist", "dead_letter")._value.get() >= 1  # noqa: B023, SLF001 - child count; called in this iteration
                  and worker.pipeline.messages.labels("persist", "ok")._value.get() >= sent_ok)  # noqa: B023, SLF001 - as above
        assert count(store, schema.machine_events) == 3
        with store.engine.connect() as conn:
            rows = conn.execute(select(schema.telemetry_minutes.c.n_samples)).scalars().all()
        assert len(rows) == 5 * len(plant.machines()) and set(rows) == {1}


def test_ordering_rules_dead_letter_with_reasons_and_the_rebuild_skips_the_rejected(kafka_settings, unique,
                                                                                    registry_dir, tmp_path):
    """A sample 30 days ahead of its machine's timeline (inside the contract's and the record-time
    bounds) and a late one are dead-lettered with their reasons; after a restart the state rebuild
    replays them and skips them again, so every later valid sample of that machine is scored."""
    prefix = unique("o")
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    ensure_topics(kafka_settings, [t.name for t in (TELEMETRY, EVENTS, SCORES, ALERTS, DEADLETTER)])
    cnc = plant.machines()[0].id
    first = [s for s in samples(plant, 30) if s.machine_id == cnc]
    later = [s for s in samples(plant, 30, first_seq=30) if s.machine_id == cnc]
    ahead = first[-1].model_copy(update={"ts": first[-1].ts + timedelta(days=30), "seq": 30})
    late = first[10].model_copy(update={"seq": 10_000})
    with Producer(kafka_settings) as producer:
        for s in first + [ahead, late]:
            producer.send(TELEMETRY, s)
    store = Store.open(store_settings(tmp_path))
    group = unique("g")

    def worker() -> ScoringWorker:
        return ScoringWorker(ScoringSettings(kafka=kafka_settings, registry_dir=registry_dir,
                                             store=store_settings(tmp_path),
                                             scoring=ScoringOptions(group_id=group, score_every=STEP)),
                             plant=plant, store=store)

    w1 = worker()
    def outcome(w: ScoringWorker, name: str) -> float:
        return w.metrics.registry.get_sample_value("linewatch_scoring_records_total", {"outcome": name}) or 0.0

    run_until(w1, lambda: outcome(w1, "out_of_order") >= 1)
    assert outcome(w1, "time_jump") == 1
    with Producer(kafka_settings) as producer:
        for s in later:
            producer.send(TELEMETRY, s)
    w2 = worker()  # a restart: the rebuild replays `first`, `ahead` and `late` from Kafka
    due_later = {s.ts for s in later if (s.seq + 1) % STEP == 0}

    def scored() -> set:
        with store.engine.connect() as conn:
            rows = conn.execute(select(schema.scores.c.ts).where(schema.scores.c.machine_id == cnc)).scalars()
            return {ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts for ts in rows}

    run_until(w2, lambda: due_later <= scored())
    assert w2.metrics.registry.get_sample_value("linewatch_scoring_rebuild_records_total") >= len(first) + 2
    assert due_later <= scored() and ahead.ts not in scored()
    assert outcome(w2, "ok") + outcome(w2, "sensor_fault") == len(later)
    dead = {d["error_type"]: d for d in read_topic(kafka_settings, DEADLETTER.name, prefix) if d["stage"] == "scoring"}
    assert set(dead) == {"TimeJumpAhead", "OutOfOrder"}
    assert "30.0 days after the machine's newest sample" in dead["TimeJumpAhead"]["reason"]
    assert "LINEWATCH_SCORING__MAX_JUMP_S" in dead["TimeJumpAhead"]["reason"]
    assert f"is not after the machine's newest sample {first[-1].ts.isoformat()}" in dead["OutOfOrder"]["reason"]
