"""The API against SQLite and a real PostgreSQL: the full ISA-18.2 alert life cycle with
escalation by the background task and signed webhooks delivered to a local HTTP receiver
(with retries), work orders and labels; KPIs checked against hand-computed values,
including the baseline formula."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts import (
    AlertAction,
    AlertEvent,
    FailureOccurred,
    MachineState,
    MaintenanceDone,
    PartCompleted,
    StateChanged,
    StoreSettings,
)
from services.api import ApiSettings, create_app
from store import Store, schema
from store.credentials import Role
from store.repos.auth import create_user

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery-staple"
M = "line-1/cnc-01"


class Receiver:
    """A local webhook receiver; answers 500 to the first ``fail_first`` calls."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append({"headers": dict(self.headers), "body": body})
                self.send_response(500 if len(outer.calls) <= outer.fail_first else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [c["headers"]["X-LineWatch-Event"] for c in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Store, dict[str, str]]]:
    url = f"sqlite:///{tmp_path}/api.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = ApiSettings(store=StoreSettings(url=url), check_broker=False, background_interval_s=0.2,
                           escalate_after_s=1.0, escalation_max_level=1, webhook_backoff_s=0.2,
                           registry_dir=tmp_path / "registry")
    store = Store.open(settings.store)
    with store.engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
        for role in Role:
            create_user(conn, role.value, PASSWORD, role)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        tokens = {r.value: client.post("/api/v1/auth/login", json={"username": r.value, "password": PASSWORD})
                  .json()["access_token"] for r in Role}
        yield client, store, tokens
    store.close()


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_full_alert_lifecycle_with_escalation_and_signed_webhooks(env) -> None:
    client, store, tok = env
    receiver, flaky = Receiver(), Receiver(fail_first=2)
    try:
        hook = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=h(tok["admin"]))
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]
        client.post("/api/v1/webhooks", json={"url": flaky.url, "events": ["alert.raised"]}, headers=h(tok["admin"]))

        now = datetime.now(UTC)
        raised = AlertEvent(alert_id=f"{M}|tool_wear|{now.isoformat()}", machine_id=M, ts=now,
                            action=AlertAction.RAISED,
                            mode="tool_wear", priority="high", probability=0.8, model_version="m-1",
                            message_en="Tool wear likely", message_zh="刀具磨损")
        store.upsert_alert_events([raised])
        aid = raised.alert_id

        # new alert -> webhook; unacknowledged past 1 s -> escalated by the background task -> webhook
        wait_until(lambda: "alert.escalated" in receiver.events())
        assert receiver.events()[0] == "alert.raised"
        call = receiver.calls[0]
        expected = hmac.new(secret.encode(), call["headers"]["X-LineWatch-Timestamp"].encode() + b"." + call["body"],
                            hashlib.sha256).hexdigest()
        assert call["headers"]["X-LineWatch-Signature"] == f"sha256={expected}"
        assert json.loads(call["body"])["alert"]["alert_id"] == aid
        # the flaky receiver failed twice, then got it on the third attempt (backoff 0.2 s, 0.4 s)
        wait_until(lambda: len(flaky.calls) == 3)

        detail = client.get(f"/api/v1/alerts/{aid}", headers=h(tok["viewer"])).json()
        assert detail["escalation_level"] == 1 and detail["state"] == "unacknowledged"
        assert detail["rationale"]["time_to_respond_minutes"] > 0 and detail["rationale"]["cause_zh"]

        op = h(tok["operator"])
        assert client.post(f"/api/v1/alerts/{aid}/acknowledge", headers=op).json()["state"] == "acknowledged"
        again = client.post(f"/api/v1/alerts/{aid}/acknowledge", headers=op)
        assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]
        assert client.post(f"/api/v1/alerts/{aid}/assign", json={"assignee": "zhang.min"}, headers=op).json()[
            "assigned_to"] == "zhang.min"
        until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        shelved = client.post(f"/api/v1/alerts/{aid}/shelve", json={"reason": "cable swap", "until": until}, headers=op)
        assert shelved.json()["state"] == "shelved"
        too_long = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        assert client.post(f"/api/v1/alerts/{aid}/shelve", json={"reason": "x" * 5, "until": too_long},
                           headers=op).status_code == 400
        assert client.post(f"/api/v1/alerts/{aid}/unshelve", json={}, headers=op).json()["state"] == "acknowledged"
        assert client.post(f"/api/v1/alerts/{aid}/comments", json={"text": "tool T07 worn"},
                           headers=op).status_code == 201

        # the scorer clears the condition: operator state survives, acknowledged + cleared = normal
        store.upsert_alert_events([raised.model_copy(update={"action": AlertAction.CLEARED,
                                                             "ts": now + timedelta(seconds=30)})])
        assert client.get(f"/api/v1/alerts/{aid}", headers=op).json()["state"] == "normal"

        resolved = client.post(f"/api/v1/alerts/{aid}/resolve", json={"outcome": "confirmed_fault", "cause": "wear",
                                                                      "action": "replace_tool"}, headers=op)
        assert resolved.json()["state"] == "resolved" and resolved.json()["failure_mode"] == "tool_wear"
        assert client.post(f"/api/v1/alerts/{aid}/assign", json={"assignee": "x"}, headers=op).status_code == 409
        wait_until(lambda: "alert.resolved" in receiver.events())

        trail = client.get(f"/api/v1/alerts/{aid}/audit", headers=op).json()
        actions = [(e["actor"], e["action"]) for e in reversed(trail)]
        assert actions == [("system", "alert.escalate"), ("operator", "alert.acknowledge"), ("operator",
                                                                                             "alert.assign"),
                           ("operator", "alert.shelve"), ("operator", "alert.unshelve"), ("operator", "alert.comment"),
                           ("operator", "alert.resolve")]

        listed = client.get("/api/v1/alerts", params={"state": "resolved", "machine": M}, headers=op).json()
        assert listed["total"] == 1 and listed["counts"]["resolved"] == 1
        labels = client.get("/api/v1/labels", headers=op).json()
        assert [(x["machine_id"], x["mode"], x["outcome"], x["source"]) for x in labels] == [
            (M, "tool_wear", "confirmed_fault", "alert")]
    finally:
        receiver.close()
        flaky.close()


def test_work_order_from_alert_becomes_label_and_csv_export(env) -> None:
    client, store, tok = env
    now = datetime.now(UTC)
    raised = AlertEvent(alert_id=f"{M}|spindle_bearing|x", machine_id=M, ts=now, action=AlertAction.RAISED,
                        mode="spindle_bearing", priority="medium", probability=0.6, model_version="m-1")
    store.upsert_alert_events([raised])
    op = h(tok["operator"])
    wo = client.post("/api/v1/work-orders", json={"alert_id": raised.alert_id, "title": "Check bearing"}, headers=op)
    assert wo.status_code == 201 and wo.json()["machine_id"] == M and wo.json()["action"] == "service_spindle_bearing"
    wid = wo.json()["work_order_id"]
    closed = client.post(f"/api/v1/work-orders/{wid}/close", json={"outcome": "false_alarm", "cost": 50.0}, headers=op)
    assert closed.json()["status"] == "closed"
    assert client.post(f"/api/v1/work-orders/{wid}/close", json={"outcome": "false_alarm"},
                       headers=op).status_code == 409
    csv_text = client.get("/api/v1/labels", params={"format": "csv"}, headers=op).text
    lines = csv_text.strip().splitlines()
    assert lines[0] == "machine_id,ts,mode,outcome,source,source_id"
    assert lines[1].startswith(f"{M},") and ",spindle_bearing,false_alarm,work_order," in lines[1]
    bad = client.post("/api/v1/work-orders", json={"machine_id": "line-9/none", "title": "x"}, headers=op)
    assert bad.status_code == 422 and "no machine" in bad.json()["detail"]


T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def _period(start: datetime, parts: list[bool], failure_at_h: float | None, tag: str) -> list[Any]:
    events: list[Any] = [StateChanged(event_id=f"{tag}-s0", machine_id=M, ts=start, from_state=MachineState.IDLE,
                                      to_state=MachineState.RUNNING)]
    for i, good in enumerate(parts):
        events.append(PartCompleted(event_id=f"{tag}-p{i}", machine_id=M, ts=start + timedelta(hours=1 + i),
                                    part_id=f"{tag}{i}", cycle_time_s=100, ideal_cycle_time_s=90, energy_kwh=0.5,
                                    good=good))
    if failure_at_h is not None:
        at = start + timedelta(hours=failure_at_h)
        events += [FailureOccurred(event_id=f"{tag}-f", machine_id=M, ts=at, mode="tool_wear", component="tool"),
                   StateChanged(event_id=f"{tag}-s1", machine_id=M, ts=at, from_state=MachineState.RUNNING,
                                to_state=MachineState.DOWN),
                   MaintenanceDone(event_id=f"{tag}-m", machine_id=M, ts=at + timedelta(hours=1), action="replace_tool",
                                   component="tool", planned=False, duration_s=3600, reason="corrective",
                                   parts_cost=100.0),
                   StateChanged(event_id=f"{tag}-s2", machine_id=M, ts=at + timedelta(hours=1),
                                from_state=MachineState.DOWN, to_state=MachineState.RUNNING)]
    return events


def test_kpis_match_hand_computed_values_and_baseline_formula(env) -> None:
    client, store, tok = env
    # baseline: [T0-10h, T0): 4 parts, 2 good, no failure. now: [T0, T0+10h): 3 parts, 2 good, one 1-h failure.
    store.upsert_events(_period(T0 - timedelta(hours=10), [True, False, True, False], None, "b")
                        + _period(T0, [True, True, False], 6.0, "n"))
    eng = h(tok["engineer"])
    base = client.post("/api/v1/baselines", json={"name": "before", "scope": "machine", "scope_id": M,
                                                  "start": (T0 - timedelta(hours=10)).isoformat(),
                                                  "end": T0.isoformat()}, headers=eng)
    assert base.status_code == 201, base.text
    r = client.get("/api/v1/kpis", params={"scope": "machine", "id": M, "from": T0.isoformat(),
                                           "to": (T0 + timedelta(hours=10)).isoformat(),
                                           "baseline_id": base.json()["baseline_id"]}, headers=h(tok["viewer"]))
    assert r.status_code == 200, r.text
    k = r.json()["kpis"]
    running_s, range_s = 9 * 3600, 10 * 3600
    assert k["availability"] == pytest.approx(running_s / range_s)
    assert k["performance"] == pytest.approx(3 * 90 / running_s)
    assert k["quality"] == pytest.approx(2 / 3)
    assert k["oee"] == pytest.approx(0.9 * (270 / running_s) * (2 / 3))
    assert k["mtbf_hours"] == pytest.approx(9.0) and k["mttr_hours"] == pytest.approx(1.0)
    assert k["unplanned_downtime_hours"] == pytest.approx(1.0)
    assert k["defect_rate"] == pytest.approx(1 / 3)
    assert k["energy_per_good_part_kwh"] == pytest.approx(1.5 / 2)
    assert k["maintenance_parts_cost"] == pytest.approx(100.0)
    dr = {i["name"]: i for i in r.json()["improvements"]}["defect_rate_reduction"]
    assert dr["formula"] == "(DR_base − DR_now) / DR_base" and dr["baseline"] == "before"
    assert dr["inputs"] == {"DR_base": pytest.approx(0.5), "DR_now": pytest.approx(1 / 3)}
    assert dr["value"] == pytest.approx((0.5 - 1 / 3) / 0.5)
    assert r.json()["baseline_kpis"]["defect_rate"] == pytest.approx(0.5)
    bad = client.get("/api/v1/kpis", params={"scope": "machine"}, headers=h(tok["viewer"]))
    assert bad.status_code == 422 and "needs id" in bad.json()["detail"]
