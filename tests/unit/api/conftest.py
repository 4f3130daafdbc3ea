"""An API app on a fresh SQLite store, with one login per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contracts import StoreSettings
from services.api import ApiSettings, create_app
from store import Store
from store.credentials import Role
from store.repos.auth import create_user

PASSWORD = "correct-horse-battery-staple"


def make_settings(folder: Path) -> ApiSettings:
    return ApiSettings(store=StoreSettings(url=f"sqlite:///{folder}/api.db"), check_broker=False,
                       background_tasks=False, registry_dir=folder / "registry")


@pytest.fixture
def api_settings(tmp_path: Path) -> ApiSettings:
    return make_settings(tmp_path)


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    yield from open_client(api_settings)


def open_client(api_settings: ApiSettings) -> Iterator[TestClient]:
    store = Store.open(api_settings.store)
    with store.engine.begin() as conn:
        for role in Role:
            create_user(conn, role.value, PASSWORD, role)
    with TestClient(create_app(api_settings, store), raise_server_exceptions=False) as c:
        yield c
    store.close()


@pytest.fixture
def tokens(client: TestClient) -> dict[str, str]:
    return login_all(client)


def login_all(client: TestClient) -> dict[str, str]:
    out = {}
    for role in Role:
        r = client.post("/api/v1/auth/login", json={"username": role.value, "password": PASSWORD})
        assert r.status_code == 200, r.text
        out[role.value] = r.json()["access_token"]
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
