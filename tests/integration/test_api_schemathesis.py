"""Schemathesis over the API's OpenAPI spec (authenticated as admin): no request, however
odd, may get a 5xx. Bounded: a few examples per operation."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from contracts import StoreSettings
from services.api import ApiSettings, create_app
from store import Store
from store.credentials import Role
from store.repos.auth import create_key, create_user, login

pytestmark = pytest.mark.integration


def _app(folder: Path):
    api_settings = ApiSettings(store=StoreSettings(url=f"sqlite:///{folder}/fuzz.db"), check_broker=False,
                               background_tasks=False, registry_dir=folder / "registry")
    store = Store.open(api_settings.store)
    with store.engine.begin() as conn:
        create_user(conn, "admin", "correct-horse-battery-staple", Role.ADMIN)
        token, _ = login(conn, api_settings.token_pepper.get_secret_value(), "admin",
                         "correct-horse-battery-staple", 3600)
    return create_app(api_settings, store), token


import tempfile  # noqa: E402 - the schema is loaded at collection time

_folder = Path(tempfile.mkdtemp(prefix="lw-fuzz-"))
APP, TOKEN = _app(_folder)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
# the live stream never ends by design; it is covered by its own tests
schema = schema.exclude(path="/api/v1/stream")


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (f"{case.method} {case.formatted_path}: {response.status_code} "
                                        f"{response.text[:300]}")


# --- the same on PostgreSQL, the production store, plus stateful runs -----------------------
# Every operation, a few examples each, on a PostgreSQL store seeded with alerts (as the scorer
# path writes them). A stateful run (list -> read -> act on an alert through schemathesis's
# inferred links) is not here yet: its linked alert actions answered 404 (see the closing note).


@pytest.fixture(scope="module")
def pg_app(postgres_url: str, tmp_path_factory: pytest.TempPathFactory):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from contracts import AlertAction, AlertEvent

    base = make_url(postgres_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # a database of its own: the session's other tests share the cluster
        conn.execute(text("DROP DATABASE IF EXISTS lw_fuzz"))
        conn.execute(text("CREATE DATABASE lw_fuzz"))
    admin.dispose()
    url = base.set(database="lw_fuzz").render_as_string(hide_password=False)
    folder = tmp_path_factory.mktemp("fuzz-pg")
    api_settings = ApiSettings(store=StoreSettings(url=url), check_broker=False, background_tasks=False,
                               registry_dir=folder / "registry")
    store = Store.open(api_settings.store)
    now = datetime.now(UTC)
    store.upsert_alert_events([AlertEvent(alert_id=f"{m}|tool_wear|{i}", machine_id=m, ts=now - timedelta(minutes=i),
                                          action=AlertAction.RAISED, mode="tool_wear", priority="high",
                                          probability=0.8, model_version="m-1")
                               for i, m in enumerate(["line-1/cnc-01", "line-1/cnc-02", "line-2/robot-01"] * 3)])
    with store.engine.begin() as conn:
        create_user(conn, "admin", "correct-horse-battery-staple", Role.ADMIN)
        token, _ = login(conn, api_settings.token_pepper.get_secret_value(), "admin",
                         "correct-horse-battery-staple", 3600)
        key, _ = create_key(conn, api_settings.token_pepper.get_secret_value(), "fuzz", Role.ADMIN, [], "test", None)
    yield create_app(api_settings, store), token, key
    store.close()


@pytest.fixture(scope="module")
def pg_schema(pg_app):
    app = pg_app[0]
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).exclude(path="/api/v1/stream")


def test_no_server_errors_on_postgresql(pg_schema, pg_app) -> None:
    """Every operation, a few generated requests each (the PostgreSQL app exists only once the
    session's cluster runs, so the operations are walked here rather than parametrized)."""
    from hypothesis import given

    token, seen = pg_app[1], []
    for result in pg_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")

        check()
        seen.append(operation.label)
    assert len(seen) > 35, seen
