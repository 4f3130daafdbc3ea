"""Kafka-side helpers of the scoring benchmark: groups that start at the log end, paced
producers, lag probes and workers run as separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from contracts.messages import TelemetrySample
from contracts.plant import Plant
from contracts.settings import KafkaSettings
from contracts.topics import EVENTS, TELEMETRY
from runtime.producer import Producer

ROOT = Path(__file__).resolve().parent.parent


def partitions(kafka: KafkaSettings, topic: str = TELEMETRY.name) -> list[TopicPartition]:
    consumer = KafkaConsumer(**kafka.client_kwargs())
    try:
        return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    finally:
        consumer.close()


def end_offsets(kafka: KafkaSettings, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(**kafka.client_kwargs())
    try:
        return consumer.end_offsets(tps)
    finally:
        consumer.close()


def start_group_at_end(kafka: KafkaSettings, group: str) -> None:
    """Commit the current log ends for ``group`` so it reads only what comes next."""
    tps = partitions(kafka) + partitions(kafka, EVENTS.name)
    ends = end_offsets(kafka, tps)
    consumer = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka.client_kwargs())
    try:
        consumer.assign(tps)
        consumer.commit({tp: OffsetAndMetadata(ends[tp], None, -1) for tp in tps})
    finally:
        consumer.close()


def group_lag(probe: KafkaConsumer, group: str, tps: list[TopicPartition]) -> int:
    """Records between the group's committed offsets and the log ends (``probe`` is a
    consumer with ``group_id=group`` that never subscribes, so it never joins the group)."""
    ends = probe.end_offsets(tps)
    return sum(max(0, ends[tp] - (probe.committed(tp) or 0)) for tp in tps)


def produce(kafka: KafkaSettings, items: Iterable[TelemetrySample]) -> int:
    n = 0
    with Producer(kafka) as producer:
        for s in items:
            producer.send(TELEMETRY, s)
            n += 1
    return n


def produce_paced(kafka: KafkaSettings, plant: Plant, rate_per_s: float, seconds: float,
                  sim_period_s: float | None = None) -> int:
    """Send samples of every machine at ``rate_per_s`` in total for ``seconds``.

    Sample time is the wall clock (``sim_period_s`` None: latency runs) or advances
    ``sim_period_s`` per sample (accelerated replay, e.g. 60 s samples at 3600x)."""
    machines = plant.machines()
    t0 = datetime.now(UTC)
    began, sent, seq = time.monotonic(), 0, 0
    with Producer(kafka) as producer:
        while (elapsed := time.monotonic() - began) < seconds:
            due = int(elapsed * rate_per_s / len(machines))
            while seq < due:
                ts = t0 + timedelta(seconds=seq * sim_period_s) if sim_period_s else datetime.now(UTC)
                for i, m in enumerate(machines):
                    signals = {s.name: s.normal_low + (s.normal_high - s.normal_low) * (0.4 + 0.1 * ((seq + i) % 5) / 5)
                               for s in m.sensors}
                    producer.send(TELEMETRY, TelemetrySample(machine_id=m.id, ts=ts, seq=seq, signals=signals))
                    sent += 1
                seq += 1
            time.sleep(0.005)
    return sent


def worker_process(kafka: KafkaSettings, plant: Plant, work: Path, registry: Path, group: str,
                   score_every: int | None = None) -> subprocess.Popen:
    """``linewatch score`` as its own process (its own core, no shared GIL)."""
    plant_file = work / f"{group}.yaml"
    plant_file.write_text(yaml.safe_dump(plant.model_dump(mode="json"), allow_unicode=True))
    env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "LINEWATCH_STORE__URL": f"sqlite:///{work}/{group}.db", "LINEWATCH_REGISTRY_DIR": str(registry),
           "LINEWATCH_PLANT_FILE": str(plant_file), "LINEWATCH_SCORING__GROUP_ID": group,
           "LINEWATCH_METRICS_PORT": "0"}
    if score_every:
        env["LINEWATCH_SCORING__SCORE_EVERY"] = str(score_every)
    return subprocess.Popen([sys.executable, "-m", "services.cli", "score"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
