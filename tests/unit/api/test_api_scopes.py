"""Line scopes on every route of ``app.routes``, for API keys and for users.

Each route is called by {unscoped, scoped to line-1, scoped to line-2} callers (all with the
admin role, so role checks never hide a leak), aimed at {own line, other line} objects (path
ids, query filters and bodies all point at one line). A scoped caller must never see the other
line: no 2xx answer may mention it, no answer may carry its seeded free text, every request
aimed at one of its objects is refused, and plant-wide routes refuse scoped callers (403). The
unscoped caller does see both lines (the positive control: the seeded data is reachable, so a
leak would show). A new route must be classified (``Scope``, ``PlantWide`` or ``LINE_FREE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from contracts import AlertAction, AlertEvent, FailureOccurred, HealthScore
from services.api import create_app
from store import Store
from store.credentials import Role
from store.repos.auth import create_user
from tests.unit.api.conftest import PASSWORD, auth, make_settings
from tests.unit.api.test_api_roles import ROUTES, walk

LINES = ("line-1", "line-2")
MACHINE = {"line-1": "line-1/cnc-01", "line-2": "line-2/robot-01"}
MODE = {"line-1": "tool_wear", "line-2": "reducer_wear"}
SECRET = {line: f"secret-text-of-{line}" for line in LINES}  # seeded free text: must never cross lines
OTHER = {"line-1": "line-2", "line-2": "line-1"}
# Routes that hold no line-owned data (anything else declares Scope or PlantWide).
LINE_FREE = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/auth/me"),
             ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
             ("GET", "/api/v1/models"), ("GET", "/api/v1/models/{version}")}
NOW = datetime.now(UTC)


def declares(route: APIRoute, marker: str) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if getattr(dep.call, marker, False):
            return True
        stack.extend(dep.dependencies)
    return False


def classified() -> dict[tuple[str, str], str]:
    app = create_app(make_settings_for_walk())
    out = {}
    for path, route in walk(app.routes):
        for method in route.methods:
            kinds = [k for k, marker in (("scoped", "scoped"), ("plant_wide", "plant_wide")) if declares(route, marker)]
            out[(method, path)] = kinds[0] if len(kinds) == 1 else ("line_free" if not kinds else "both")
    return out


def make_settings_for_walk():
    from services.api import ApiSettings

    return ApiSettings(store={"url": "sqlite://"}, check_broker=False, background_tasks=False)


KIND = classified()


def test_every_route_is_classified() -> None:
    assert len(KIND) == len(ROUTES) > 35
    for (method, path), kind in sorted(KIND.items()):
        assert kind != "both", f"{method} {path} declares both Scope and PlantWide"
        if kind == "line_free":
            assert (method, path) in LINE_FREE, (
                f"{method} {path} declares neither Scope nor PlantWide: filter line-owned data through Scope, "
                "refuse scoped callers with PlantWide, or list it in LINE_FREE if it holds no line data")
        else:
            assert (method, path) not in LINE_FREE, f"{method} {path} is in LINE_FREE but declares {kind}"


class World:
    """One app with both lines seeded, and the callers."""

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client, self.store = client, store
        admin = auth(login(client, "root"))
        self.alert: dict[str, str] = {}
        self.work_order: dict[str, str] = {}
        scores, events, alerts = [], [], []
        for line in LINES:
            m = MACHINE[line]
            for i in range(3):
                scores.append(HealthScore(score_id=f"{m}|{i}", machine_id=m, ts=NOW - timedelta(minutes=10 - i),
                                          model_version="m-1", health=80 - i, horizon_hours=24,
                                          failure_probability={MODE[line]: 0.3}))
            events.append(FailureOccurred(event_id=f"{m}:fail:1", machine_id=m, ts=NOW - timedelta(hours=1),
                                          mode=MODE[line], component="tool", description=SECRET[line]))
            for n in ("act", "label"):
                alerts.append(AlertEvent(alert_id=f"{m}|{MODE[line]}|{n}", machine_id=m, ts=NOW - timedelta(minutes=5),
                                         action=AlertAction.RAISED, mode=MODE[line], priority="high", probability=0.8,
                                         model_version="m-1", message_en=f"{SECRET[line]} message",
                                         message_zh="警报"))
            self.alert[line] = f"{m}|{MODE[line]}|act"
        store.upsert_scores(scores)
        store.upsert_events(events)
        store.upsert_alert_events(alerts)
        for line in LINES:
            m = MACHINE[line]
            ok = client.post(f"/api/v1/alerts/{m}|{MODE[line]}|label/resolve", headers=admin,
                             json={"outcome": "confirmed_fault", "cause": SECRET[line]})
            assert ok.status_code == 200, ok.text
            wo = client.post("/api/v1/work-orders", headers=admin, json={"machine_id": m, "title": SECRET[line]})
            assert wo.status_code == 201, wo.text
            self.work_order[line] = wo.json()["work_order_id"]
            closed = client.post("/api/v1/work-orders", headers=admin, json={"machine_id": m, "title": SECRET[line]})
            assert client.post(f"/api/v1/work-orders/{closed.json()['work_order_id']}/close", headers=admin,
                               json={"outcome": "confirmed_fault", "cause": SECRET[line]}).status_code == 200
            assert client.post(f"/api/v1/alerts/{self.alert[line]}/comments", headers=admin,
                               json={"text": SECRET[line]}).status_code == 201
            assert client.post("/api/v1/baselines", headers=admin, json={
                "name": SECRET[line], "scope": "machine", "scope_id": m, "start": (NOW - timedelta(days=2)).isoformat(),
                "end": (NOW - timedelta(days=1)).isoformat()}).status_code == 201
        self.callers: dict[str, dict[str, str]] = {}
        for lines in ((), ("line-1",), ("line-2",)):
            label = "+".join(lines) or "all"
            key = client.post("/api/v1/api-keys", headers=admin,
                              json={"name": f"key-{len(lines)}-{lines[0][-1] if lines else 0}", "role": "admin",
                                    "lines": list(lines)})
            assert key.status_code == 201, key.text
            self.callers[f"key:{label}"] = {"X-API-Key": key.json()["key"]}
            user = f"user-{lines[0][-1] if lines else 0}"
            with store.engine.begin() as conn:
                create_user(conn, user, PASSWORD, Role.ADMIN, lines=list(lines))
            self.callers[f"user:{label}"] = auth(login(client, user))
        self.key_id = key.json()["key_id"]

    def request(self, method: str, path: str, line: str, headers: dict[str, str]):
        m = MACHINE[line]
        values = {"alert_id": self.alert[line], "work_order_id": self.work_order[line], "line": line,
                  "machine": m.split("/")[1], "version": "m-1", "key_id": self.key_id, "webhook_id": "wh-none"}
        url = re.sub(r"\{(\w+)(?::path)?\}", lambda g: values[g.group(1)], path)
        query = {"line": line, "machine": m, "alert_id": self.alert[line], "max_seconds": "0.5", "since_s": "3600"}
        if path == "/api/v1/kpis":
            query |= {"scope": "line", "id": line}
        return self.client.request(method, url, params=query, headers=headers, json=body(path, line, self))


def body(path: str, line: str, world: World) -> dict[str, Any] | None:
    m = MACHINE[line]
    until = (NOW + timedelta(hours=1)).isoformat()
    bodies = {
        "/assign": {"assignee": "someone"}, "/shelve": {"reason": "scope test", "until": until},
        "/unshelve": {"reason": "x"}, "/resolve": {"outcome": "false_alarm"}, "/out-of-service": {"reason": "x"},
        "/return-to-service": {"reason": "x"}, "/comments": {"text": "scope test"},
        "/close": {"outcome": "no_fault_found"},
    }
    for suffix, b in bodies.items():
        if path.endswith(suffix):
            return b
    return {
        "/api/v1/work-orders": {"alert_id": world.alert[line], "title": "scope test"},
        "/api/v1/baselines": {"name": "b", "scope": "machine", "scope_id": m,
                              "start": (NOW - timedelta(days=3)).isoformat(),
                              "end": (NOW - timedelta(days=2)).isoformat()},
        "/api/v1/users": {"username": f"new-{line}", "password": "a-long-enough-passphrase-1", "role": "viewer",
                          "lines": [line]},
        "/api/v1/api-keys": {"name": "k", "lines": [line]},
        "/api/v1/webhooks": {"url": "http://127.0.0.1:9/hook"},
        "/api/v1/pilot/reports": {"scope": "test"},
    }.get(path, {})


def login(client: TestClient, user: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("scopes"))
    store = Store.open(settings.store)
    with store.engine.begin() as conn:
        create_user(conn, "root", PASSWORD, Role.ADMIN)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield World(client, store)
    store.close()


SCOPED_ROUTES = sorted(k for k, v in KIND.items() if v != "line_free")


@pytest.mark.parametrize(("method", "path"), SCOPED_ROUTES, ids=[f"{m} {p}" for m, p in SCOPED_ROUTES])
def test_scoped_callers_never_see_the_other_line(world: World, method: str, path: str) -> None:
    problems = []
    for kind in ("key", "user"):
        for own in LINES:
            other = OTHER[own]
            headers = world.callers[f"{kind}:{own}"]
            for target in (own, other):
                r = world.request(method, path, target, headers)
                what = f"{kind} scoped to {own} -> {target}: {r.status_code} {r.text[:160]}"
                assert r.status_code < 500, what
                if SECRET[other] in r.text:
                    problems.append(f"leaks {other}'s text: {what}")
                if r.status_code < 300 and other in r.text:
                    problems.append(f"2xx mentions {other}: {what}")
                if KIND[(method, path)] == "plant_wide":
                    if r.status_code != 403:
                        problems.append(f"plant-wide route not refused: {what}")
                elif target == other and "{" in path and r.status_code < 300:
                    problems.append(f"acts on / returns an object of {other}: {what}")
                elif target == own and r.status_code in (401, 403):
                    problems.append(f"refuses its own line: {what}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("method", "path"), [k for k in SCOPED_ROUTES if k[0] == "GET"],
                         ids=[f"{m} {p}" for m, p in SCOPED_ROUTES if m == "GET"])
def test_unscoped_callers_see_every_line(world: World, method: str, path: str) -> None:
    """The positive control: the data the scoped test hides is really there."""
    for kind in ("key", "user"):
        for line in LINES:
            r = world.request(method, path, line, world.callers[f"{kind}:all"])
            if path == "/api/v1/pilot/reports/latest":
                assert r.status_code == 404  # no report seeded: plant-wide, checked by the 403 above
                continue
            assert r.status_code == 200, f"{kind} -> {line}: {r.status_code} {r.text[:200]}"
            if path not in ("/api/v1/webhooks", "/api/v1/lines/{line}/machines/{machine}/telemetry"):
                assert line in r.text, f"{kind}: {method} {path} for {line} shows nothing of it: {r.text[:200]}"


def test_a_scoped_caller_changes_nothing_on_the_other_line(world: World) -> None:
    alert = world.alert["line-2"]
    admin = world.callers["key:all"]
    before = world.client.get(f"/api/v1/alerts/{alert}", headers=admin).json()
    work_order = world.client.post("/api/v1/work-orders", headers=admin,
                                   json={"machine_id": MACHINE["line-2"], "title": "fresh"}).json()["work_order_id"]
    for kind in ("key", "user"):
        h = world.callers[f"{kind}:line-1"]
        for action, b in (("acknowledge", {}), ("resolve", {"outcome": "false_alarm"}), ("comments", {"text": "x"})):
            assert world.client.post(f"/api/v1/alerts/{alert}/{action}", json=b, headers=h).status_code == 404
        assert world.client.post(f"/api/v1/work-orders/{work_order}/close", headers=h,
                                 json={"outcome": "false_alarm"}).status_code == 404
    after = world.client.get(f"/api/v1/alerts/{alert}", headers=admin).json()
    assert (after["state"], len(after["comments"]), len(after["audit"])) == (
        before["state"], len(before["comments"]), len(before["audit"]))
    wo = world.client.get(f"/api/v1/work-orders/{work_order}", headers=admin).json()
    assert wo["status"] == "open"
