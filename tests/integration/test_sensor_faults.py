"""Acceptance (issue 16): a signal stuck for 10 minutes raises a sensor-fault alert within one
scoring interval — real broker, real scoring worker with real toy LightGBM champions, SQLite store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_scoring_worker import read_topic, run_until

from contracts.plant import load_plant
from contracts.settings import StoreSettings
from contracts.topics import ALERTS, DEADLETTER, EVENTS, SCORES, TELEMETRY
from pipelines.scoring.sensorfaults import alert_mode
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import T0, renamed_plant, samples
from runtime.admin import ensure_topics
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from store import Store, schema

pytestmark = pytest.mark.integration
PER_MACHINE = 40
STEP = 5
FROZEN_FROM = 8  # sample index at which the sensor freezes (60 s samples)


def test_a_stuck_signal_raises_one_sensor_fault_alert_within_one_scoring_interval(
        kafka_settings, unique, registry_dir, tmp_path) -> None:
    prefix = unique("q")
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    cnc = plant.machines("cnc")[0]
    signal = next(s.name for s in cnc.sensors if "coolant" in s.name)
    ensure_topics(kafka_settings, [t.name for t in (TELEMETRY, EVENTS, SCORES, ALERTS, DEADLETTER)])
    frozen = None
    with Producer(kafka_settings) as producer:
        for s in samples(plant, PER_MACHINE):
            if s.machine_id == cnc.id and s.seq >= FROZEN_FROM:
                frozen = frozen if frozen is not None else s.signals[signal]
                s = s.model_copy(update={"signals": {**s.signals, signal: frozen}})
            producer.send(TELEMETRY, s)
    store = Store.open(StoreSettings(url=f"sqlite:///{tmp_path}/lw.db"))
    settings = ScoringSettings(kafka=kafka_settings, registry_dir=registry_dir,
                               store=StoreSettings(url=f"sqlite:///{tmp_path}/lw.db"),
                               scoring=ScoringOptions(group_id=unique("g"), score_every=STEP, max_records=500))
    worker = ScoringWorker(settings, plant=plant, store=store)

    def stored() -> list:
        with store.engine.connect() as conn:
            return list(conn.execute(select(schema.alerts).where(schema.alerts.c.mode.like("sensor_fault:%"))))

    expected_scores = len(plant.machines()) * PER_MACHINE // STEP
    run_until(worker, lambda: bool(stored()) and worker.metrics.scores._value.get() >= expected_scores)  # noqa: SLF001 - counter value

    rows = stored()
    assert [(r.machine_id, r.mode) for r in rows] == [(cnc.id, alert_mode(signal))], rows
    onset = T0 + timedelta(seconds=60 * FROZEN_FROM)
    raised = rows[0].raised_at.replace(tzinfo=onset.tzinfo) if rows[0].raised_at.tzinfo is None else rows[0].raised_at
    # detected on the sample that completed 10 minutes frozen: within one scoring interval (STEP samples)
    assert timedelta(minutes=10) <= raised - onset <= timedelta(minutes=10) + timedelta(seconds=60 * STEP)
    published = [a for a in read_topic(kafka_settings, ALERTS.name, prefix) if a["mode"].startswith("sensor_fault")]
    assert len(published) == 1 and published[0]["action"] == "raised"
    alert = published[0]
    assert "stuck" in alert["message_en"] and "传感器故障" in alert["message_zh"] and "卡滞" in alert["message_zh"]
    assert alert["recommended_action"] == "check_sensor" and alert["top_factors"][0]["feature"] == signal
    # distinct from equipment alerts: no failure mode of the machine is named sensor_fault*
    assert not any(m.startswith("sensor_fault") for m in cnc.failure_modes)
    assert json.dumps(alert)  # a plain JSON record
