"""Alert-system KPIs default to the line's own clock (latest score or alert), not the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import auth, login_all, make_settings, open_client

from contracts.messages import AlertAction, AlertEvent
from store import Store

T0 = datetime(2025, 3, 1, tzinfo=UTC)  # a simulated line, long before the wall clock


def test_kpis_of_a_simulated_line_count_its_alerts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for client in open_client(settings):
        store = Store.open(settings.store)
        alerts = [AlertEvent(alert_id=f"line-1/cnc-01|tool_wear|{h}", machine_id="line-1/cnc-01",
                             ts=T0 + timedelta(hours=h), action=AlertAction.RAISED, mode="tool_wear",
                             priority="medium", probability=0.8, model_version="m") for h in (0, 30, 40)]
        store.upsert_alert_events(alerts)
        store.close()
        token = login_all(client)["viewer"]
        kpis = client.get("/api/v1/alert-system/kpis", headers=auth(token)).json()
        assert kpis["alerts"] == 3                       # the wall-clock window would hold none
        assert kpis["stale_alerts"] == 1                 # open > 24 h at the line's clock (hour 40): the first only
        assert kpis["to"].startswith("2025-03-02T16:00:00")
