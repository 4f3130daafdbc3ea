"""The API's error handlers: store failures are a 503 and are counted; the project's errors are
mapped by class; refusals of the store's records keep their meaning (404 / 409 / 400)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contracts.errors import BrokerError, LineWatchError
from services.api import errors
from services.api.metrics import ApiMetrics
from store.errors import Conflict, Invalid, NotFound, StoreError
from tests.unit.api.conftest import auth


def store_errors(client: TestClient) -> float:
    value = client.app.state.ctx.metrics.registry.get_sample_value("linewatch_api_store_errors_total")
    return float(value or 0.0)


def test_a_store_failure_during_a_request_is_a_503_and_counted(client: TestClient, tokens: dict[str, str]) -> None:
    before = store_errors(client)
    with client.app.state.ctx.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alert_comments")  # the store breaks under a running API
        conn.exec_driver_sql("DROP TABLE alerts")
    r = client.get("/api/v1/alerts", headers=auth(tokens["viewer"]))
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert store_errors(client) == before + 1


class OddStoreError(StoreError):
    """A subclass named otherwise: dispatch must follow the class, not its name."""


@pytest.mark.parametrize(("exc", "status"), [
    (OddStoreError("disk full"), 503), (BrokerError("no broker"), 503), (LineWatchError("bad"), 400),
    (NotFound("no such alert"), 404), (Conflict("already resolved"), 409), (Invalid("in the past"), 400),
])
def test_errors_map_by_class(exc: Exception, status: int) -> None:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise exc

    metrics = ApiMetrics.create()
    app.state.ctx = SimpleNamespace(metrics=metrics)  # the handlers only touch the metrics
    errors.install(app)
    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (r.status_code, r.json()["detail"]) == (status, str(exc))
    counted = metrics.registry.get_sample_value("linewatch_api_store_errors_total")
    assert counted == (1 if isinstance(exc, StoreError) else 0)
