"""Every route from ``app.routes``: mutations refuse anonymous callers and too-weak roles;
reads refuse anonymous callers unless listed as public. A new route cannot slip through."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.api import ApiSettings, create_app
from store.credentials import Role
from tests.unit.api.conftest import auth, login_all, make_settings, open_client

PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
SELF_SERVICE = {("POST", "/api/v1/auth/logout")}  # changes only the caller's own session


def min_role(route: APIRoute) -> Role | None:
    """The role the route's dependency tree demands (from ``deps.require``)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        role = getattr(dep.call, "min_role", None)
        if role is not None:
            return role
        stack.extend(dep.dependencies)
    return None


def walk(routes: list, prefix: str = "") -> list[tuple[str, APIRoute]]:
    """(full path, route) for every APIRoute, also inside included routers (FastAPI >= 0.16x
    keeps them as ``_IncludedRouter`` entries in ``app.routes``)."""
    out: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            out += walk(route.original_router.routes, prefix + route.include_context.prefix)
    return out


def all_routes() -> list[tuple[str, str, Role | None]]:
    app = create_app(ApiSettings(store={"url": "sqlite://"}, check_broker=False, background_tasks=False))
    out = []
    for path, route in walk(app.routes):
        out += [(m, path, min_role(route)) for m in sorted(route.methods)]
    return out


ROUTES = all_routes()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):  # one app for every route: the checks do not depend on state
    yield from open_client(make_settings(tmp_path_factory.mktemp("roles")))


@pytest.fixture(scope="module")
def tokens(client: TestClient) -> dict[str, str]:
    return login_all(client)


def concrete(path: str) -> str:
    # max_seconds bounds the live stream; other routes ignore unknown query parameters
    return re.sub(r"\{[^}]+\}", "x", path) + "?max_seconds=0.3"


def test_route_table_is_complete() -> None:
    assert len(ROUTES) > 35
    for method, path, role in ROUTES:
        if (method, path) in PUBLIC:
            assert role is None, f"{method} {path} is public but declares {role}"
        else:
            assert role is not None, f"{method} {path} declares no role: add Viewer/Operator/Engineer/Admin"
        if method in MUTATING and (method, path) not in PUBLIC | SELF_SERVICE:
            assert role.rank >= Role.OPERATOR.rank, f"{method} {path} lets viewers mutate"


@pytest.mark.parametrize(("method", "path", "role"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_refuses_anonymous_and_weaker_roles(client: TestClient, tokens: dict[str, str], method: str, path: str,
                                                  role: Role | None) -> None:
    url = concrete(path)
    if role is None:
        assert (method, path) in PUBLIC
        return
    anonymous = client.request(method, url, json={})
    assert anonymous.status_code == 401, f"{method} {path}: anonymous got {anonymous.status_code}"
    assert anonymous.json()["detail"]
    bad = client.request(method, url, json={}, headers=auth("lws_not-a-real-token"))
    assert bad.status_code == 401
    for weaker in [r for r in Role if r.rank < role.rank]:
        r = client.request(method, url, json={}, headers=auth(tokens[weaker.value]))
        assert r.status_code == 403, f"{method} {path}: {weaker} got {r.status_code}"
    token = tokens[role.value]
    if (method, path) in SELF_SERVICE:  # logging out ends the shared token: use one of its own
        token = login_all(client)[role.value]
    allowed = client.request(method, url, json={}, headers=auth(token))
    assert allowed.status_code not in (401, 403, 500), f"{method} {path}: {role} got {allowed.status_code}"
