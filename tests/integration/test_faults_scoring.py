"""Fault tests against the real broker: kill -9 of the worker mid-stream, broker restart.

Both compare with a reference: the same samples scored by the engine in one go, without
faults. Every window end must be scored exactly once in the store, with the same values,
and every alert raised exactly as in the reference (same ids, no duplicates).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from contracts.plant import load_plant
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import ALERTS, DEADLETTER, EVENTS, SCORES, TELEMETRY
from pipelines.health import AlertRules
from pipelines.models import Registry
from pipelines.scoring.engine import ScoringEngine
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import renamed_plant, samples
from runtime import broker
from runtime.admin import ensure_topics
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from store import Store, schema

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PER_MACHINE, STEP = 200, 5


def setup_stream(prefix: str, kafka_settings: KafkaSettings):
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    ensure_topics(kafka_settings, [t.name for t in (TELEMETRY, EVENTS, SCORES, ALERTS, DEADLETTER)])
    items = list(samples(plant, PER_MACHINE, degrading=(plant.machines()[1].id, plant.machines()[7].id)))
    return plant, items


def reference(plant, items, registry_dir: Path) -> tuple[dict[str, float], set[tuple]]:
    reg = Registry(registry_dir)
    eng = ScoringEngine(plant, {k: reg.champion(k) for k in ("cnc", "robot")}, AlertRules(), score_every=STEP)
    scores, alerts = {}, set()
    for i in range(0, len(items), 500):
        for s in items[i:i + 500]:
            eng.ingest(s, 0)
        out = eng.score_pending()
        scores |= {s.score_id: s.health for s in out.scores}
        alerts |= {(a.alert_id, a.action.value, a.ts) for a in out.alerts}
    return scores, alerts


def stored(store: Store) -> tuple[dict[str, float], set[str]]:
    with store.engine.connect() as conn:
        scores = dict(conn.execute(select(schema.scores.c.score_id, schema.scores.c.health)).all())
        alerts = set(conn.execute(select(schema.alerts.c.alert_id)).scalars())
    return scores, alerts


def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def produce(settings: KafkaSettings, items) -> None:
    with Producer(settings) as producer:
        for s in items:
            producer.send(TELEMETRY, s)


def check_against_reference(store: Store, plant, items, registry_dir: Path) -> None:
    ref_scores, ref_alerts = reference(plant, items, registry_dir)
    got_scores, got_alerts = stored(store)
    assert set(got_scores) == set(ref_scores)  # every window end scored, nothing extra
    assert got_scores == pytest.approx(ref_scores, abs=0.11)
    assert got_alerts == {a[0] for a in ref_alerts}  # same alert ids: none duplicated or lost
    assert ref_alerts, "the degrading machines must raise alerts for this test to mean something"


def test_kill_9_mid_stream_then_restart_scores_everything_once(kafka_settings, unique, registry_dir, tmp_path):
    plant, items = setup_stream(unique("k"), kafka_settings)
    plant_file = tmp_path / "plant.yaml"
    plant_file.write_text(yaml.safe_dump(plant.model_dump(mode="json"), allow_unicode=True))
    db = f"sqlite:///{tmp_path}/lw.db"
    env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
           "LINEWATCH_STORE__URL": db, "LINEWATCH_REGISTRY_DIR": str(registry_dir),
           "LINEWATCH_PLANT_FILE": str(plant_file), "LINEWATCH_SCORING__GROUP_ID": unique("g"),
           "LINEWATCH_SCORING__SCORE_EVERY": str(STEP), "LINEWATCH_SCORING__MAX_RECORDS": "100",
           "LINEWATCH_METRICS_PORT": "0"}
    store = Store.open(StoreSettings(url=db))
    expected = len(plant.machines()) * PER_MACHINE // STEP
    half = len(items) // 2
    produce(kafka_settings, items[:half])
    start = lambda: subprocess.Popen([sys.executable, "-m", "services.cli", "score"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc = start()
    try:
        assert wait_for(lambda: len(stored(store)[0]) >= expected // 8, 90), proc.stderr.read1().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)  # mid-stream: about an eighth of the scores written
        proc.wait(10)
        killed_at = len(stored(store)[0])
        assert killed_at < expected // 2
        produce(kafka_settings, items[half:])
        proc = start()
        assert wait_for(lambda: len(stored(store)[0]) >= expected, 120), proc.stderr.read1().decode()[-2000:]
        time.sleep(1.0)  # anything extra would show up now
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    check_against_reference(store, plant, items, registry_dir)


def test_broker_restart_mid_stream_worker_recovers_and_loses_nothing(kafka, kafka_settings, unique, registry_dir,
                                                                     tmp_path):
    plant, items = setup_stream(unique("b"), kafka_settings)
    store = Store.open(StoreSettings(url=f"sqlite:///{tmp_path}/lw.db"))
    settings = ScoringSettings(kafka=kafka_settings, registry_dir=registry_dir,
                               scoring=ScoringOptions(group_id=unique("g"), score_every=STEP, max_records=100,
                                                      restart_backoff_s=1.0))
    worker = ScoringWorker(settings, plant=plant, store=store)
    thread = threading.Thread(target=worker.run, daemon=True)
    expected = len(plant.machines()) * PER_MACHINE // STEP
    half = len(items) // 2
    produce(kafka_settings, items[:half])
    thread.start()
    try:
        assert wait_for(lambda: len(stored(store)[0]) >= expected // 8, 90)
        broker.restart_same_ports(broker.status(Path(kafka.work)) or kafka)
        produce(kafka_settings, items[half:])
        assert wait_for(lambda: len(stored(store)[0]) >= expected, 150)
        time.sleep(1.0)
    finally:
        worker.stop()
        thread.join(60)
    assert not thread.is_alive()
    check_against_reference(store, plant, items, registry_dir)


def test_rebalance_under_load_worker_added_then_one_killed_loses_and_duplicates_nothing(
        kafka_settings, unique, registry_dir, tmp_path):
    """Worker A scores; B joins mid-stream (partitions move to it, it rebuilds their state
    by replay); then A is killed with -9 (B takes everything over, replaying A's
    uncommitted batch). The shared store must hold every window end exactly once with
    the reference values and exactly the reference's alerts."""
    plant, items = setup_stream(unique("r"), kafka_settings)
    plant_file = tmp_path / "plant.yaml"
    plant_file.write_text(yaml.safe_dump(plant.model_dump(mode="json"), allow_unicode=True))
    db = f"sqlite:///{tmp_path}/lw.db"
    env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
           "LINEWATCH_STORE__URL": db, "LINEWATCH_REGISTRY_DIR": str(registry_dir),
           "LINEWATCH_PLANT_FILE": str(plant_file), "LINEWATCH_SCORING__GROUP_ID": unique("g"),
           "LINEWATCH_SCORING__SCORE_EVERY": str(STEP), "LINEWATCH_SCORING__MAX_RECORDS": "100",
           "LINEWATCH_METRICS_PORT": "0"}
    store = Store.open(StoreSettings(url=db))
    expected = len(plant.machines()) * PER_MACHINE // STEP
    third = len(items) // 3
    start = lambda: subprocess.Popen([sys.executable, "-m", "services.cli", "score"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    produce(kafka_settings, items[:third])
    a = start()
    b = None
    try:
        assert wait_for(lambda: len(stored(store)[0]) >= expected // 10, 90), a.stderr.read1().decode()[-2000:]
        b = start()  # joins the group mid-stream: a rebalance while A is scoring
        produce(kafka_settings, items[third:2 * third])
        assert wait_for(lambda: len(stored(store)[0]) >= expected // 2, 120), b.stderr.read1().decode()[-2000:]
        a.send_signal(signal.SIGKILL)  # and one dies mid-stream
        a.wait(10)
        assert len(stored(store)[0]) < expected
        produce(kafka_settings, items[2 * third:])
        assert wait_for(lambda: len(stored(store)[0]) >= expected, 150), b.stderr.read1().decode()[-2000:]
        time.sleep(1.0)  # anything extra would show up now
    finally:
        for proc in (a, b):
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    check_against_reference(store, plant, items, registry_dir)
