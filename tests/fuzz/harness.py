"""Fuzz run against a real broker and a real scoring worker (shared by the fuzz tier test and
``bench/bench_fuzz.py``).

1. a renamed demo plant (private machine ids), warm-up samples stamped near the wall clock;
2. ``n`` mutants of them (``tests/fuzz/corpus.py``), every produced record's coordinates kept;
3. ``after`` valid samples per machine that a mutant touched, continuing each machine's stream.

``check`` then reads the dead-letter topic and the store and returns the figures: every
mutant expected to be rejected has a dead letter with a reason at its coordinates (a
summary for oversized ones), no kept mutant has one, and every due window of the valid
samples afterwards was scored.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select

from contracts.plant import Plant, load_plant
from contracts.settings import KafkaSettings
from contracts.topics import ALERTS, DEADLETTER, EVENTS, SCORES, TELEMETRY
from pipelines.testing.samplestream import renamed_plant, samples
from runtime.admin import ensure_topics
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from store import schema
from tests.fuzz.corpus import Mutant, corpus

# The telemetry topic accepts records up to this size (set by runtime/admin.py when it creates
# the topic), so the 5 MB mutants reach the worker; a foreign producer may send that much.
BIG_TOPIC_BYTES = TELEMETRY.max_message_bytes or 0
STEP = 5


@dataclass
class FuzzRun:
    plant: Plant
    plant_file: Path
    warmup: list[Any]
    after: list[Any]
    mutants: list[Mutant] = field(default_factory=list)
    coords: list[tuple[int, int]] = field(default_factory=list)  # (partition, offset) per mutant
    began_ms: int = 0
    sent: int = 0  # mutants handed to the producer so far (progress)


def prepare(settings: KafkaSettings, prefix: str, tmp: Path, warmup: int = 30, after: int = 100) -> FuzzRun:
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    plant_file = tmp / "plant.yaml"
    plant_file.write_text(yaml.safe_dump(plant.model_dump(mode="json"), allow_unicode=True))
    ensure_topics(settings, [t.name for t in (TELEMETRY, EVENTS, SCORES, ALERTS, DEADLETTER)])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=warmup + after + 5)
    items = list(samples(plant, warmup + after, start=start, degrading=(plant.machines()[1].id,)))
    n_machines = len(plant.machines())
    return FuzzRun(plant, plant_file, items[: warmup * n_machines], items[warmup * n_machines:])


def produce_warmup(settings: KafkaSettings, run: FuzzRun) -> None:
    with Producer(settings) as producer:
        for s in run.warmup:
            producer.send(TELEMETRY, s)


def produce_mutants(settings: KafkaSettings, run: FuzzRun, n: int, seed: int, big: int | None) -> None:
    run.began_ms = int(time.time() * 1000)
    futures = []
    with Producer(settings, max_request_size=BIG_TOPIC_BYTES) as producer:
        for m in corpus(run.warmup, n, seed, big=big):
            run.mutants.append(m)
            futures.append(producer.send_raw(TELEMETRY.name, m.value, m.key))
            run.sent += 1
        producer.flush()
        for f in futures:
            meta = f.get(timeout=60)
            run.coords.append((meta.partition, meta.offset))


def produce_after(settings: KafkaSettings, run: FuzzRun) -> None:
    with Producer(settings) as producer:
        for s in run.after:
            producer.send(TELEMETRY, s)


def worker_env(run: FuzzRun, settings: KafkaSettings, db: str, registry_dir: Path, group: str,
               metrics_port: int = 0) -> dict[str, str]:
    return {"LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": settings.bootstrap_servers, "LINEWATCH_STORE__URL": db,
            "LINEWATCH_REGISTRY_DIR": str(registry_dir), "LINEWATCH_PLANT_FILE": str(run.plant_file),
            "LINEWATCH_SCORING__GROUP_ID": group, "LINEWATCH_SCORING__SCORE_EVERY": str(STEP),
            "LINEWATCH_SCORING__MAX_RECORDS": "200", "LINEWATCH_METRICS_PORT": str(metrics_port),
            "LINEWATCH_SCORING__RESTART_BACKOFF_S": "0.5"}


def expected_after_scores(run: FuzzRun) -> set[tuple[str, str]]:
    return {(s.machine_id, s.ts.isoformat()) for s in run.after if (s.seq + 1) % STEP == 0}


def stored_scores(store: Any) -> set[tuple[str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.scores.c.machine_id, schema.scores.c.ts)).all()
    return {(m, (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()) for m, ts in rows}


def stored_alerts(store: Any) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(schema.alerts.c.alert_id)).scalars())


def dead_letters(settings: KafkaSettings, since_ms: int, timeout_s: float = 60.0,
                 want: int | None = None) -> dict[tuple[int, int], Any]:
    """Scoring-stage dead letters of telemetry records, by source (partition, offset)."""
    reader = KafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_bytes=64 * 1024 * 1024,
                           **settings.client_kwargs())
    out: dict[tuple[int, int], Any] = {}
    try:
        tps = [TopicPartition(DEADLETTER.name, p) for p in sorted(reader.partitions_for_topic(DEADLETTER.name) or ())]
        reader.assign(tps)
        starts = reader.offsets_for_times({tp: since_ms for tp in tps})
        for tp in tps:
            found = starts.get(tp)
            if found is None:
                reader.seek_to_end(tp)
            else:
                reader.seek(tp, found.offset)
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            got = reader.poll(timeout_ms=500)
            for batch in got.values():
                for rec in batch:
                    dl = DEADLETTER.decode(rec.value)
                    if dl.stage == "scoring" and dl.source_topic == TELEMETRY.name:
                        out[(dl.source_partition, dl.source_offset)] = dl
            if got:
                quiet_since = time.monotonic()
            if want is not None and len(out) >= want and time.monotonic() - quiet_since > 1.0:
                break
            if want is None and time.monotonic() - quiet_since > 3.0:
                break
        return out
    finally:
        reader.close()


@dataclass
class Verdict:
    mutants: int
    kinds: int
    expected_rejects: int
    dead_lettered: int
    missing: list[str]
    unexpected: list[str]
    summaries: int
    summary_errors: list[str]
    after_expected: int
    after_scored: int
    by_reason: dict[str, int]


def check(run: FuzzRun, letters: dict[tuple[int, int], Any], scored: set[tuple[str, str]]) -> Verdict:
    missing, unexpected, summary_errors = [], [], []
    summaries = 0
    by_reason: dict[str, int] = {}
    for m, coord in zip(run.mutants, run.coords, strict=False):
        dl = letters.get(coord)
        if m.expect == "kept":
            if dl is not None:
                unexpected.append(f"{m.kind}@{coord}: {dl.reason[:120]}")
            continue
        if dl is None or not dl.reason:
            missing.append(f"{m.kind}@{coord}")
            continue
        by_reason[dl.error_type] = by_reason.get(dl.error_type, 0) + 1
        raw = m.value or b""
        if dl.truncated:
            summaries += 1
            if dl.value_bytes != len(raw) or dl.value_sha256 != hashlib.sha256(raw).hexdigest() \
                    or not raw.startswith(base64.b64decode(dl.value_b64)):
                summary_errors.append(f"{m.kind}@{coord}")
        elif base64.b64decode(dl.value_b64) != raw:
            summary_errors.append(f"{m.kind}@{coord}: bytes differ")
    expected = expected_after_scores(run)
    return Verdict(len(run.mutants), len({m.kind for m in run.mutants}),
                   sum(m.expect != "kept" for m in run.mutants), len(letters), missing, unexpected, summaries,
                   summary_errors, len(expected), len(expected & scored), by_reason)
