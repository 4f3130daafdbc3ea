"""The Grafana dashboard's SQL panels (health per line, open alerts per line) run on a real,
migrated PostgreSQL store and return what an operator should see."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from contracts.settings import StoreSettings
from store import Store
from store.schema import alerts, scores

DASHBOARD = Path(__file__).resolve().parents[2] / "helm" / "linewatch" / "files" / "dashboards" / "linewatch.json"


def panel_sql(title: str) -> str:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    (panel,) = [p for p in panels if p["title"] == title]
    return panel["targets"][0]["rawSql"]


def score(machine: str, line: str, health: float, age: timedelta) -> dict:
    now = datetime.now(UTC)
    return {"machine_id": f"{line}/{machine}", "ts": now - age, "model_version": "v1", "score_id": f"{machine}-{age}",
            "line_id": line, "health": health, "max_failure_probability": 1 - health / 100, "payload": {},
            "ingested_at": now}


def alert(alert_id: str, line: str, priority: str, state: str) -> dict:
    now = datetime.now(UTC)
    return {"alert_id": alert_id, "machine_id": f"{line}/m1", "line_id": line, "mode": "tool_wear",
            "priority": priority, "probability": 0.9, "model_version": "v1", "message_en": "", "message_zh": "",
            "top_factors": [], "raised_at": now, "scorer_ts": now, "active": state != "normal", "state": state,
            "suppressed": False, "out_of_service": False, "escalation_level": 0, "changed_at": now}


def test_dashboard_sql_panels_on_a_real_store(postgres_url: str, unique) -> None:
    store = Store.open(StoreSettings(url=postgres_url))
    line_a, line_b, line_old = unique("line"), unique("line"), unique("line")
    with store.engine.begin() as conn:
        conn.execute(insert(scores), [
            score("m1", line_a, 90, timedelta(minutes=30)), score("m1", line_a, 40, timedelta(minutes=5)),
            score("m2", line_a, 80, timedelta(minutes=10)), score("m3", line_b, 70, timedelta(minutes=1)),
            score("m4", line_old, 10, timedelta(hours=3)),  # stale: not current health
        ])
        conn.execute(insert(alerts), [
            alert(unique("a"), line_a, "high", "unacknowledged"), alert(unique("a"), line_a, "high", "acknowledged"),
            alert(unique("a"), line_a, "low", "rtn_unacknowledged"), alert(unique("a"), line_b, "low", "normal"),
        ])
    with store.engine.connect() as conn:
        health = {r.line: (r.lowest, float(r.mean))
                  for r in conn.execute(text(panel_sql("Health per line")))}
        open_alerts = {(r.line, r.priority): r.open_alerts
                       for r in conn.execute(text(panel_sql("Open alerts per line")))}
    assert health[line_a] == (40, 60.0)  # newest score per machine: m1 40, m2 80
    assert health[line_b] == (70, 70.0)
    assert line_old not in health
    assert open_alerts[(line_a, "high")] == 2 and open_alerts[(line_a, "low")] == 1
    assert not any(line == line_b for line, _ in open_alerts)
