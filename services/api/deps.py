"""Typed FastAPI dependencies: the app context and the caller with a minimum role.

Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
thread pool, a hop that cost more than the check itself. ``authenticate`` reads the store, so
it reads it in the thread pool only when its short memory of recent callers misses.

Every route that needs a caller declares one of ``Viewer``, ``Operator``, ``Engineer`` or
``Admin``; ``tests/unit/api/test_api_roles.py`` walks ``app.routes`` and checks them all.
Every route that touches line-owned data also declares ``Scope`` (the caller's ``LineScope``),
and every plant-wide route ``PlantWide`` (scoped callers get 403);
``tests/unit/api/test_api_scopes.py`` checks that every route declares one or is listed as
line-free, and that none leaks another line's data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from services.api.context import AppContext
from services.api.scope import LineScope
from store.credentials import Principal, Role
from store.repos import auth as auth_repo

bearer = HTTPBearer(auto_error=False, description="Login token from POST /auth/login, or an API key")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key for integrators")


async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
TOUCH_EVERY_S = 60.0


async def authenticate(ctx: Ctx, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                       key: Annotated[str | None, Depends(api_key_header)]) -> Principal:
    """The caller from ``Authorization: Bearer`` (token or API key) or ``X-API-Key``; 401 otherwise.

    A secret seen in the last ``auth_cache_s`` (default 1 s) is answered from this process's
    memory; a miss reads the store in the thread pool. Every local write (logout, key revocation,
    user change) clears that memory, so in this process a revoked secret fails at once; in other
    ``serve`` workers within ``auth_cache_s`` plus one store read (while one request re-checks an
    expired secret, the others still use it). Unknown secrets are never remembered."""
    secret = key or (creds.credentials if creds else None)
    if not secret:
        raise HTTPException(401, "not authenticated: send Authorization: Bearer <token> or X-API-Key", UNAUTHORIZED)
    principal, fresh = ctx.principals.lookup(secret)
    if fresh:
        return principal
    claimed = principal is not None and ctx.principals.claim(secret)
    if principal is not None and not claimed:
        return principal  # expired a moment ago and another request is re-checking it
    try:
        principal = await run_in_threadpool(_lookup, ctx, secret)
    finally:
        if claimed:
            ctx.principals.release(secret)
    if principal is None:
        ctx.principals.forget(secret)
        raise HTTPException(401, "invalid or expired token or API key", UNAUTHORIZED)
    return principal


def _lookup(ctx: AppContext, secret: str) -> Principal | None:
    """The store's answer for ``secret`` (remembered if valid), and the idle clock / key use
    written at most once a minute per process."""
    generation = ctx.principals.generation
    with ctx.read() as conn:
        principal = auth_repo.principal_for(conn, ctx.pepper, secret, ctx.settings.session_idle_s)
    if principal is None:
        return None
    if principal.kind == "user" and time.monotonic() - ctx.session_last_seen.get(secret, -1e9) > TOUCH_EVERY_S:
        ctx.session_last_seen[secret] = time.monotonic()  # idle clock: written at most once a minute per process
        if len(ctx.session_last_seen) > 10_000:
            ctx.session_last_seen.clear()
        generation = _own_write(ctx, generation, lambda conn: auth_repo.touch_session(conn, ctx.pepper, secret))
    if principal.kind == "api_key" and time.monotonic() - ctx.key_last_used.get(principal.name, -1e9) > 60:
        ctx.key_last_used[principal.name] = time.monotonic()  # record use at most once a minute
        generation = _own_write(ctx, generation, lambda conn: auth_repo.touch_key(conn, principal.name))
    ctx.principals.put(secret, principal, generation)
    return principal


def _own_write(ctx: AppContext, generation: int, write: Callable[[Any], None]) -> int:
    """Run ``write``; the generation to remember ``_lookup``'s answer under: the new one if our own
    write was the only change meanwhile, else the old one (so a concurrent change wins)."""
    before = ctx.principals.generation
    with ctx.write() as conn:
        write(conn)
    return ctx.principals.generation if before == generation and ctx.principals.generation == before + 1 \
        else generation


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through callers with at least ``role`` (403 otherwise)."""

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.role.allows(role):
            raise HTTPException(403, f"needs role {role.value} or higher; you are {principal.role.value}")
        return principal

    dependency.min_role = role  # type: ignore[attr-defined]  # read by the route audit test
    dependency.__name__ = f"require_{role.value}"
    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Engineer = Annotated[Principal, Depends(require(Role.ENGINEER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


async def line_scope(ctx: Ctx, principal: Annotated[Principal, Depends(authenticate)]) -> LineScope:
    """The caller's line scope: routes filter line-owned data through it."""
    return LineScope(principal, ctx.plant)


line_scope.scoped = True  # type: ignore[attr-defined]  # read by the scope audit test


async def plant_wide(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """Plant-wide administration and reports: refused (403) for callers with line scopes."""
    if principal.lines:
        raise HTTPException(403, f"plant-wide operation: needs a caller without line scopes; yours are "
                                 f"{sorted(principal.lines)}")
    return principal


plant_wide.plant_wide = True  # type: ignore[attr-defined]  # read by the scope audit test

Scope = Annotated[LineScope, Depends(line_scope)]
PlantWide = Annotated[Principal, Depends(plant_wide)]
