"""The machine page's answer says which failure modes the model has no validated skill for (and so are
neither in the failure probabilities nor in health)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from contracts import HealthScore
from services.api import create_app
from store import Store
from store.credentials import Role
from store.repos.auth import create_user
from tests.unit.api.conftest import PASSWORD, auth, make_settings


def test_machine_detail_lists_the_modes_without_validated_skill(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = Store.open(settings.store)
    try:
        with store.engine.begin() as conn:
            create_user(conn, "viewer", PASSWORD, Role.VIEWER)
        client = TestClient(create_app(settings, store), raise_server_exceptions=False)
        token = client.post("/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD}).json()[
            "access_token"]
        r = client.get("/api/v1/lines/line-1/machines/cnc-01", headers=auth(token))
        assert r.status_code == 200, r.text
        assert r.json()["no_skill_modes"] == []  # before the first score
        at = datetime.now(UTC) - timedelta(minutes=1)
        store.upsert_scores([HealthScore(
            score_id=f"line-1/cnc-01|{at.isoformat()}", machine_id="line-1/cnc-01", ts=at, model_version="m-1",
            health=91.4, horizon_hours=24, mode_lead_hours={"tool_wear": 0.5, "coolant": 4.0},
            failure_probability={"tool_wear": 0.76, "coolant": 0.01}, no_skill_modes=["spindle_bearing"])])
        r = client.get("/api/v1/lines/line-1/machines/cnc-01", headers=auth(token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["no_skill_modes"] == ["spindle_bearing"] and "spindle_bearing" not in body["failure_probability"]
        assert body["band"] == "good"
    finally:
        store.close()
