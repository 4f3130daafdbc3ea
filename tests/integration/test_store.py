"""The store against SQLite and a real PostgreSQL: migrations, idempotent upserts,
operator state kept across scorer replays, per-minute telemetry aggregates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from contracts import AlertAction, MachineState, StateChanged, StoreSettings
from contracts.examples import T0, examples, telemetry
from contracts.messages import PlcAlarm
from store import AlertState, Store, current_revision, schema
from store.database import MIGRATIONS

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/lw.db"
    else:
        url = request.getfixturevalue("postgres_url")
    s = Store.open(StoreSettings(url=url))
    with s.engine.begin() as conn:  # the PostgreSQL cluster is shared by the session
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
    yield s
    s.close()


def count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_migrated_schema_matches_metadata_and_reopen_is_idempotent(store: Store) -> None:
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"migrations have several heads {heads}: chain the newest to the previous one"
    assert current_revision(store.engine) == heads[0]
    Store.open(StoreSettings(url=str(store.engine.url.render_as_string(hide_password=False)))).close()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)
    assert diff == []


def test_score_upsert_is_idempotent_and_keeps_json(store: Store) -> None:
    score = examples()["linewatch.scores.v1"]
    assert store.upsert_scores([score, score]) == 1
    store.upsert_scores([score.model_copy(update={"health": 50.0})])
    assert count(store, schema.scores) == 1
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.scores)).mappings().one()
    assert row["health"] == 50.0 and row["ts"] == T0 and row["ts"].tzinfo is not None
    assert row["max_failure_probability"] == pytest.approx(0.21)
    assert row["payload"]["failure_probability"]["tool_wear"] == pytest.approx(0.21)


def test_alert_replay_keeps_operator_state(store: Store) -> None:
    raised = examples()["linewatch.alerts.v1"]
    assert store.upsert_alert_events([raised])["inserted"] == 1
    with store.engine.begin() as conn:  # an operator acknowledges
        conn.execute(schema.alerts.update().values(acknowledged_at=T0, acknowledged_by="li.wei", state="acknowledged"))
    cleared = raised.model_copy(update={"action": AlertAction.CLEARED, "ts": T0 + timedelta(minutes=5)})
    assert store.upsert_alert_events([raised, cleared]) == {"inserted": 0, "updated": 2, "stale": 0}
    assert store.upsert_alert_events([raised])["stale"] == 1  # older than the clear: a replay
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.alerts)).mappings().one()
    assert row["acknowledged_by"] == "li.wei" and not row["active"]
    assert row["state"] == AlertState.NORMAL


def test_unacknowledged_clear_returns_to_normal_unacknowledged(store: Store) -> None:
    raised = examples()["linewatch.alerts.v1"]
    cleared = raised.model_copy(update={"action": AlertAction.CLEARED, "ts": T0 + timedelta(minutes=1)})
    store.upsert_alert_events([cleared, raised])  # out of order in the batch: sorted by time
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.alerts.c.state)).scalar_one() == AlertState.RTN_UNACKNOWLEDGED


def test_alert_raised_during_setup_is_suppressed_by_design(store: Store) -> None:
    raised = examples()["linewatch.alerts.v1"]
    setup = StateChanged(event_id="sc-1", machine_id=raised.machine_id, ts=T0 - timedelta(minutes=1),
                         from_state=MachineState.RUNNING, to_state=MachineState.SETUP)
    store.upsert_events([setup])
    store.upsert_alert_events([raised])
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.alerts.c.state)).scalar_one() == AlertState.SUPPRESSED


def test_events_get_query_columns(store: Store) -> None:
    part = examples()["linewatch.events.v1"]
    assert store.upsert_events([part, part]) == 1
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.machine_events)).mappings().one()
    assert (row["kind"], row["part_good"], row["energy_kwh"], row["line_id"]) == ("part_completed", True, 0.31,
                                                                                  "line-1")


def test_plc_alarm_edges_keep_both_texts_and_the_active_flag(store: Store) -> None:
    raised = PlcAlarm(event_id="line-1/cnc-01|plc_alarm|E101|on", machine_id="line-1/cnc-01", ts=T0, code="E101",
                      text="Coolant level low", text_zh="冷却液液位低", severity="high", active=True)
    cleared = raised.model_copy(update={"event_id": "line-1/cnc-01|plc_alarm|E101|off", "ts": T0 + timedelta(
        seconds=30), "active": False})
    assert store.upsert_events([raised, cleared, raised]) == 2
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.machine_events).order_by(schema.machine_events.c.ts)).mappings().all()
    assert [(r["code"], r["text_en"], r["text_zh"], r["active"], r["severity"]) for r in rows] == [
        ("E101", "Coolant level low", "冷却液液位低", True, "high"),
        ("E101", "Coolant level low", "冷却液液位低", False, "high")]


def test_telemetry_minutes_merge_across_batches_and_ignore_replays(store: Store) -> None:
    samples = [telemetry(i, spindle_power_kw=float(i)) for i in range(90)]  # 1.5 minutes, 1 s apart
    assert store.upsert_telemetry(samples[:30]) == 30
    assert store.upsert_telemetry(samples[20:]) == 60  # 10 replayed samples ignored
    assert store.upsert_telemetry(samples) == 0
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.telemetry_minutes).order_by("minute")).mappings().all()
    assert [r["n_samples"] for r in rows] == [60, 30]
    n, total, low, high, last = rows[0]["signals"]["spindle_power_kw"]
    assert (n, total, low, high, last) == (60, sum(range(60)), 0, 59, 59)
