"""The API's short per-process memories (services/api/readcache.py): GET /plant and GET /alerts
answers (``read_cache_s``) and recent valid callers (``auth_cache_s``).

Two apps on one store stand for two ``serve`` worker processes. A write through a process is
seen at once by that process's callers; writes from elsewhere within the cache time; a revoked
secret stops working at once where it was revoked and within ``auth_cache_s`` elsewhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contracts import AlertAction, AlertEvent, HealthScore
from services.api import ApiSettings, create_app
from services.api.readcache import ReadCache, RecentCallers
from store import Store, schema
from store.credentials import Role
from store.repos.auth import create_user
from tests.unit.api.conftest import PASSWORD, auth, make_settings


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_read_cache_expires_and_forgets_on_local_write() -> None:
    clock, calls = Clock(), []
    cache = ReadCache(1.0, clock=clock)

    def compute() -> bytes:
        calls.append(clock.t)
        return f"body-{len(calls)}".encode()

    assert cache.get("k", compute) == b"body-1"
    assert cache.peek("k") == b"body-1" and cache.get("k", compute) == b"body-1"
    clock.t += 0.99
    assert cache.get("k", compute) == b"body-1"
    clock.t += 0.02  # past the 1 s
    assert cache.peek("k") is None and cache.get("k", compute) == b"body-2"
    cache.invalidate()
    assert cache.peek("k") is None and cache.get("k", compute) == b"body-3"
    assert cache.get("other", compute) == b"body-4"  # keys do not share entries
    assert (cache.hits, cache.misses) == (3, 4)


def test_read_cache_off_computes_every_time() -> None:
    cache, n = ReadCache(0.0), []
    for _ in range(3):
        cache.get("k", lambda: n.append(1) or b"x")
    assert len(n) == 3 and cache.peek("k") is None


def test_read_cache_keeps_no_answer_computed_across_a_local_write() -> None:
    cache = ReadCache(60.0)

    def compute_while_someone_writes() -> bytes:
        cache.invalidate()  # a write in this process committed while the answer was being built
        return b"maybe-stale"

    assert cache.get("k", compute_while_someone_writes) == b"maybe-stale"
    assert cache.peek("k") is None


def test_read_cache_computes_a_missing_key_once_under_concurrency() -> None:
    cache, started, release, calls = ReadCache(60.0), threading.Event(), threading.Event(), []

    def slow() -> bytes:
        calls.append(1)
        started.set()
        release.wait(5)
        return b"v"

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(8)]
    threads[0].start()
    assert started.wait(5)
    for t in threads[1:]:
        t.start()
    time.sleep(0.05)
    release.set()
    for t in threads:
        t.join(5)
    assert results == [b"v"] * 8 and len(calls) == 1


def test_recent_callers_refuse_an_answer_from_before_a_write() -> None:
    clock = Clock()
    callers = RecentCallers(1.0, clock=clock)
    generation = callers.generation
    callers.invalidate()  # e.g. a logout committed between the store read and the put
    callers.put("secret", "alice", generation)
    assert callers.peek("secret") is None
    callers.put("secret", "alice", callers.generation)
    assert callers.peek("secret") == "alice"
    clock.t += 1.01
    assert callers.peek("secret") is None


# --- two processes on one store ----------------------------------------------------------------

def _score(machine: str, health: float, at: datetime) -> HealthScore:
    return HealthScore(score_id=f"{machine}|{at.isoformat()}", machine_id=machine, ts=at, model_version="m-1",
                       health=health, horizon_hours=24, failure_probability={"tool_wear": 0.1})


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, Store, ApiSettings, str]]:
    settings: ApiSettings = make_settings(tmp_path).model_copy(update={"read_cache_s": 30.0, "auth_cache_s": 30.0})
    store = Store.open(settings.store)
    with store.engine.begin() as conn:
        create_user(conn, "operator", PASSWORD, Role.OPERATOR)
    a = TestClient(create_app(settings, store), raise_server_exceptions=False)
    b = TestClient(create_app(settings, store), raise_server_exceptions=False)
    token = a.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}).json()["access_token"]
    yield a, b, store, settings, token
    store.close()


def _health(client: TestClient, token: str, machine: str = "line-1/cnc-01") -> float | None:
    r = client.get("/api/v1/plant", headers=auth(token))
    assert r.status_code == 200, r.text
    return next(m["health"] for line in r.json()["lines"] for m in line["machines"] if m["id"] == machine)


def test_plant_answer_is_reused_then_refreshed_after_its_time(two_workers) -> None:
    a, _, store, _, token = two_workers
    now = datetime.now(UTC)
    store.upsert_scores([_score("line-1/cnc-01", 80.0, now - timedelta(minutes=2))])
    assert _health(a, token) == 80.0
    store.upsert_scores([_score("line-1/cnc-01", 40.0, now - timedelta(minutes=1))])  # the persist worker writes
    assert _health(a, token) == 80.0  # within read_cache_s: the remembered answer
    cache = a.app.state.ctx.read_cache
    cache.clock = lambda: time.monotonic() + 31  # the cache time has passed
    assert _health(a, token) == 40.0


def test_own_alert_action_is_seen_at_once_and_by_the_other_worker_after_its_time(two_workers) -> None:
    a, b, store, _, token = two_workers
    store.upsert_alert_events([AlertEvent(alert_id="line-1/cnc-01|tool_wear|1", machine_id="line-1/cnc-01",
                                          ts=datetime.now(UTC), action=AlertAction.RAISED, mode="tool_wear",
                                          priority="high", probability=0.9, model_version="m-1")])

    def state(client: TestClient) -> str:
        r = client.get("/api/v1/alerts?limit=100", headers=auth(token))
        assert r.status_code == 200, r.text
        return r.json()["items"][0]["state"]

    assert state(a) == state(b) == "unacknowledged"
    r = a.post("/api/v1/alerts/line-1/cnc-01|tool_wear|1/acknowledge", headers=auth(token))
    assert r.status_code == 200, r.text
    assert state(a) == "acknowledged"  # the acting process forgot its answers
    assert state(b) == "unacknowledged"  # the other one still holds its answer (read_cache_s)
    b.app.state.ctx.read_cache.clock = lambda: time.monotonic() + 31
    assert state(b) == "acknowledged"


def test_logout_applies_at_once_here_and_within_auth_cache_s_elsewhere(two_workers) -> None:
    a, b, _, _, token = two_workers
    assert a.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    assert b.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    assert a.post("/api/v1/auth/logout", headers=auth(token)).status_code == 200
    assert a.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    assert b.get("/api/v1/auth/me", headers=auth(token)).status_code == 200  # remembered for auth_cache_s
    b.app.state.ctx.principals.clock = lambda: time.monotonic() + 31
    assert b.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


def test_scoped_callers_never_share_an_answer(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = Store.open(settings.store)
    with store.engine.begin() as conn:
        create_user(conn, "all-lines", PASSWORD, Role.VIEWER)
        create_user(conn, "line-two", PASSWORD, Role.VIEWER, lines=["line-2"])
    with TestClient(create_app(settings, store)) as c:
        tokens = {u: c.post("/api/v1/auth/login", json={"username": u, "password": PASSWORD}).json()["access_token"]
                  for u in ("all-lines", "line-two")}
        seen = {u: [line["id"] for line in c.get("/api/v1/plant", headers=auth(t)).json()["lines"]]
                for u, t in tokens.items()}
        again = [line["id"] for line in c.get("/api/v1/plant", headers=auth(tokens["line-two"])).json()["lines"]]
    store.close()
    assert seen["all-lines"] == ["line-1", "line-2"] and seen["line-two"] == again == ["line-2"]


def test_an_expired_answer_is_served_while_one_request_rebuilds_it() -> None:
    clock = Clock()
    cache = ReadCache(1.0, clock=clock)
    assert cache.get("k", lambda: b"old") == b"old"
    clock.t += 2  # expired
    started, release = threading.Event(), threading.Event()

    def slow_rebuild() -> bytes:
        started.set()
        release.wait(5)
        return b"new"

    rebuilt: list[bytes] = []
    worker = threading.Thread(target=lambda: rebuilt.append(cache.get("k", slow_rebuild)))
    worker.start()
    assert started.wait(5)
    assert cache.get("k", lambda: b"never-called") == b"old"  # no queue behind the rebuild
    release.set()
    worker.join(5)
    assert rebuilt == [b"new"] and cache.get("k", lambda: b"never-called") == b"new"
    cache.invalidate()  # after a local write nothing old is served, not even while rebuilding
    assert cache.peek("k") is None and cache.get("k", lambda: b"newest") == b"newest"


def test_an_expired_caller_is_rechecked_by_one_request_only() -> None:
    clock = Clock()
    callers = RecentCallers(1.0, clock=clock)
    callers.put("secret", "alice", callers.generation)
    assert callers.lookup("secret") == ("alice", True)
    clock.t += 1.5
    assert callers.lookup("secret") == ("alice", False) and callers.peek("secret") is None
    assert callers.claim("secret") is True  # this request re-checks the store
    assert callers.claim("secret") is False  # the others keep using the expired entry meanwhile
    callers.forget("secret")  # the store said: revoked
    callers.release("secret")
    assert callers.lookup("secret") == (None, False) and callers.claim("secret") is True


def test_while_one_request_rechecks_an_expired_token_the_others_do_not_read_the_store(two_workers) -> None:
    a, _, store, _, token = two_workers
    ctx = a.app.state.ctx
    assert a.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    with store.engine.begin() as conn:  # the session ends behind this process's back (another worker)
        conn.execute(schema.sessions.delete())
    ctx.principals.clock = lambda: time.monotonic() + 31  # and its entry here has expired
    assert ctx.principals.claim(token)  # a request is re-checking it right now
    assert a.get("/api/v1/auth/me", headers=auth(token)).status_code == 200  # not a store read: the expired entry
    ctx.principals.release(token)
    assert a.get("/api/v1/auth/me", headers=auth(token)).status_code == 401  # the next one re-checks: gone
