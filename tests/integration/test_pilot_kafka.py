"""The predictive arm closed over a real broker: line → telemetry/events topics → scoring
worker → alerts topic → policy → linewatch.commands.v1 → the line obeys what it reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contracts.plant import load_plant
from contracts.settings import KafkaSettings, StoreSettings
from pipelines.kpis import compute_scopes
from runtime.admin import ensure_topics
from services.pilot.kafkaloop import KafkaLoop
from services.pilot.line import simulator_line
from services.pilot.policies import Predictive
from services.pilot.runner import run_arm

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.integration
def test_alerts_become_commands_the_line_obeys(own_broker: KafkaSettings, tmp_path: Path) -> None:
    from pipelines.scoring.settings import ScoringOptions, ScoringSettings
    from pipelines.testing.toymodel import publish_toy_champions

    ensure_topics(own_broker)
    publish_toy_champions(tmp_path / "registry")
    plant = load_plant(ROOT / "simulators" / "plants" / "demo.yaml")
    settings = ScoringSettings(kafka=own_broker, registry_dir=tmp_path / "registry", metrics_port=0,
                               store=StoreSettings(url=f"sqlite:///{tmp_path / 'store.db'}"),
                               scoring=ScoringOptions(score_every=15, raise_after=1))
    loop = KafkaLoop(plant, settings)
    try:  # run_arm wraps the line: commands reach it only through the commands topic
        run = run_arm(plant, 1, Predictive(cooldown_h=1), simulator_line, T0, days=0.75, step=timedelta(hours=1),
                      alert_source=loop)
    finally:
        loop.close()
    raised = {a.alert_id for a in run.alerts if a.action == "raised"}
    assert raised, "the scoring worker raised no alert in 18 simulated hours"
    assert run.commands and all(c.alert_id in raised and c.reason == "predictive" for c in run.commands)
    obeyed = {c.command_id for c in loop.obeyed}
    assert obeyed and obeyed <= {c.command_id for c in run.commands}
    done = {e.command_id for e in run.events if getattr(e, "kind", "") == "maintenance_done" and e.planned}
    assert done and done <= obeyed, "planned maintenance must come only from commands read off the topic"
    kpis = compute_scopes(run.events, scopes=("plant",), alerts=run.alerts, start=run.start, end=run.end)["plant"]
    assert kpis.planned_downtime_hours > 0 and kpis.alerts_raised == len(raised)
