"""Login protection (OWASP ASVS 2.2 / 3.3 / 14.4 as the reference): throttling per account and per
client address with increasing delay, lockouts in the audit log, one generic error text, the
admin password policy, session idle timeout, security headers and CORS off by default."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api import ApiSettings, create_app
from store import Store, schema
from store.credentials import Role
from store.repos.auth import create_user
from tests.unit.api.conftest import PASSWORD, auth, make_settings

UI = Path(__file__).resolve().parents[3] / "services" / "api" / "ui"


def client_at(app, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Store, ApiSettings]]:
    settings = make_settings(tmp_path_factory.mktemp("login"))
    store = Store.open(settings.store)
    with store.engine.begin() as conn:
        for name in ("victim", "colleague", "other"):
            create_user(conn, name, PASSWORD, Role.OPERATOR)
        create_user(conn, "admin", PASSWORD, Role.ADMIN)
    yield create_app(settings, store), store, settings
    store.close()


@pytest.fixture
def app_store(shared) -> tuple[object, Store, ApiSettings]:
    """The shared app with no failed logins, audit rows or extra users left by another test."""
    _, store, _ = shared
    with store.engine.begin() as conn:
        for table in (schema.login_throttle, schema.audit_log, schema.sessions):
            conn.execute(table.delete())
        conn.execute(schema.users.delete().where(schema.users.c.username == "zhang.min"))
    return shared


def audit_rows(store: Store, action: str) -> list[dict]:
    a = schema.audit_log
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(a).where(a.c.action == action)).mappings()]


def login(client: TestClient, user: str, password: str):
    return client.post("/api/v1/auth/login", json={"username": user, "password": password})


def test_a_thousand_wrong_passwords_from_one_address_are_throttled_and_audited(app_store) -> None:
    app, store, _ = app_store
    attacker, office = client_at(app, "10.0.0.66"), client_at(app, "10.0.0.7")
    began = time.monotonic()
    codes = [login(attacker, "victim", f"guess-{i:04d}-wrong").status_code for i in range(1000)]
    elapsed = time.monotonic() - began  # as fast as the client can send them (seconds, well within a minute)
    checked, throttled = codes.count(401), codes.count(429)
    assert checked + throttled == 1000
    # 5 free failures, then locks of 1, 2, 4, 8 ... s: only a handful of guesses get checked
    assert 5 < checked <= 5 + 1 + int(elapsed).bit_length() + 1, (checked, elapsed)
    r = login(attacker, "victim", "yet-another-guess")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "too many failed logins" in r.json()["detail"]
    # audited: each checked failure, and the lockouts of the account and of the address
    assert len(audit_rows(store, "auth.login_failed")) == checked
    locks = audit_rows(store, "auth.lockout")
    assert {(r["target_type"], r["target_id"]) for r in locks} == {("account", "victim")}
    assert all(r["detail"]["address"] == "10.0.0.66" for r in locks)
    # the right password still works for other users from other addresses...
    assert login(office, "colleague", PASSWORD).status_code == 200
    # ...while the attacked account stays locked for everyone until its delay ends
    assert login(office, "victim", PASSWORD).status_code == 429


def test_password_spraying_from_one_address_locks_the_address(app_store) -> None:
    app, store, settings = app_store
    attacker, office = client_at(app, "10.0.0.66"), client_at(app, "10.0.0.7")
    codes = [login(attacker, f"user-{i}", "Summer2026!").status_code for i in range(200)]
    free = settings.login_address_free_failures
    assert codes[:free] == [401] * free  # each account saw only one failure: only the address throttle acts
    assert codes.count(429) > 150
    assert login(attacker, "colleague", PASSWORD).status_code == 429  # the address is locked, for all names
    assert login(office, "colleague", PASSWORD).status_code == 200
    assert ("address", "10.0.0.66") in {(r["target_type"], r["target_id"]) for r in audit_rows(store, "auth.lockout")}


def test_delay_grows_and_success_clears_the_account(app_store) -> None:
    app, store, settings = app_store
    c = client_at(app, "10.0.0.9")
    for _ in range(settings.login_account_free_failures):
        assert login(c, "other", "wrong-password-x").status_code == 401
    assert login(c, "other", "wrong-password-x").status_code == 401  # 6th failure: checked, then locked 1 s
    first = login(c, "other", PASSWORD)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert login(c, "other", "wrong-password-x").status_code == 401  # 7th: locked 2 s
    assert login(c, "other", PASSWORD).headers["Retry-After"] == "2"
    time.sleep(2.05)
    assert login(c, "other", PASSWORD).status_code == 200  # success clears the account's count
    with store.engine.connect() as conn:
        subjects = {r.subject for r in conn.execute(select(schema.login_throttle.c.subject))}
    assert "user:other" not in subjects and "addr:10.0.0.9" in subjects


def test_one_generic_error_for_unknown_user_and_wrong_password(app_store) -> None:
    app, _, _ = app_store
    c = client_at(app, "10.0.0.10")
    unknown, wrong = login(c, "nobody-here", "some-password-1"), login(c, "victim", "some-password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "wrong username or password"}


@pytest.mark.parametrize(("role", "password", "ok"), [
    ("admin", "Password123!", False), ("admin", "qwertyuiop1234", False), ("admin", "admin-admin-admin", False),
    ("admin", "short", False), ("admin", "winter-copper-lantern-97-oak", True),
    ("operator", "zhang.min-2026-pass", False), ("operator", "Password1234", True)])
def test_password_policy(app_store, role: str, password: str, ok: bool) -> None:
    app, _, _ = app_store
    with client_at(app, "10.0.0.11") as c:
        token = login(c, "admin", PASSWORD).json()["access_token"]
        r = c.post("/api/v1/users", headers=auth(token),
                   json={"username": "zhang.min", "password": password, "role": role})
    assert (r.status_code == 201) is ok, r.text
    if not ok:
        assert r.status_code == 422 and "password" in r.json()["detail"]


def test_session_idle_timeout_and_logout(app_store) -> None:
    app, store, settings = app_store
    c = client_at(app, "10.0.0.12")
    token = login(c, "victim", PASSWORD).json()["access_token"]
    assert c.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    with store.engine.begin() as conn:  # the session was last used longer ago than the idle timeout
        idle = datetime.now(UTC) - timedelta(seconds=settings.session_idle_s + 5)
        conn.execute(schema.sessions.update().values(last_seen_at=idle, created_at=idle))
    # ... and as much time passed for the API's short memory of recent callers (auth_cache_s)
    app.state.ctx.principals.clock = lambda: time.monotonic() + settings.session_idle_s + 5
    assert c.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    token = login(c, "victim", PASSWORD).json()["access_token"]
    assert c.post("/api/v1/auth/logout", headers=auth(token)).status_code == 200
    assert c.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


def test_security_headers_and_no_cors_by_default(app_store) -> None:
    app, _, _ = app_store
    c = client_at(app, "10.0.0.13")
    for path in ("/", "/api/v1/plant", "/healthz"):
        h = c.get(path).headers
        csp = h["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY"
    assert c.get("/api/v1/plant").headers["cache-control"] == "no-store"
    docs = c.get("/api/v1/docs")
    assert docs.status_code == 200 and "'sha256-" in docs.headers["content-security-policy"]
    assert "unsafe-inline" not in docs.headers["content-security-policy"]
    pre = c.options("/api/v1/plant", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_only_for_configured_origins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).model_copy(update={"cors_origins": ["https://scada.plant.local"]})
    with TestClient(create_app(settings)) as c:
        ok = c.options("/api/v1/plant", headers={"Origin": "https://scada.plant.local",
                                                 "Access-Control-Request-Method": "GET"})
        assert ok.headers["access-control-allow-origin"] == "https://scada.plant.local"
        bad = c.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in bad.headers


def test_ui_has_no_inline_script_or_style() -> None:
    """The strict CSP above only works if the UI has no inline code: check every file it serves."""
    for page in UI.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"{page}: inline <script>"
        assert "<style" not in html and not re.search(r"\sstyle=", html), f"{page}: inline style"
        assert not re.search(r"\son[a-z]+=", html), f"{page}: inline event handler"
    for js in (UI / "js").rglob("*.js"):
        text = js.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|innerHTML\s*=|setAttribute\(\s*['\"]style", text), js
