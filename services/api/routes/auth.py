"""Login, the caller, users and API keys."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse

from services.api.deps import Admin, Ctx, PlantWide, Viewer
from services.api.schemas.auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    LoginCreate,
    MePublic,
    TokenPublic,
    UserCreate,
    UserPublic,
)
from services.api.schemas.common import Message
from store.credentials import password_problem
from store.repos import audit, throttle
from store.repos import auth as repo

router = APIRouter(tags=["auth"])


def _known_lines(ctx: Ctx, lines: list[str]) -> None:
    unknown = [ln for ln in lines if ln not in {line.id for line in ctx.plant.lines}]
    if unknown:
        raise HTTPException(422, f"unknown line(s) {unknown}; the plant has {[ln.id for ln in ctx.plant.lines]}")


FAILED = "wrong username or password"


def _policies(ctx: Ctx) -> tuple[throttle.Policy, throttle.Policy]:
    s = ctx.settings
    account = throttle.Policy(s.login_account_free_failures, s.login_window_s, s.login_base_delay_s,
                              s.login_max_delay_s)
    address = throttle.Policy(s.login_address_free_failures, s.login_window_s, s.login_base_delay_s,
                              s.login_max_delay_s)
    return account, address


@router.post("/auth/login", response_model=TokenPublic, summary="Log in with username and password",
             responses={401: {"model": Message, "description": "wrong username or password"},
                        429: {"model": Message, "description": "too many failed logins: retry after Retry-After s"}})
def login(body: LoginCreate, request: Request, ctx: Ctx) -> dict | JSONResponse:
    """Failed logins per account and per client address are throttled (``store/repos/throttle.py``)."""
    address = request.client.host if request.client else "unknown"
    subjects = {"account": f"user:{body.username.lower()}", "address": f"addr:{address}"}
    account_policy, address_policy = _policies(ctx)
    with ctx.read() as conn:  # a locked subject costs one indexed read: no password check, no write
        wait = throttle.retry_after_s(conn, list(subjects.values()))
    if wait > 0:
        return JSONResponse({"detail": f"too many failed logins: try again in {math.ceil(wait)} s"},
                            status_code=429, headers={"Retry-After": str(math.ceil(wait))})
    with ctx.write() as conn:
        done = repo.login(conn, ctx.pepper, body.username, body.password, ctx.settings.token_ttl_s)
        if done is None:
            audit.record(conn, "anonymous", "auth.login_failed", "user", body.username, {"address": address})
            for kind, policy in (("account", account_policy), ("address", address_policy)):
                failure = throttle.record_failure(conn, subjects[kind], policy)
                if failure.locked_for_s > 0:
                    audit.record(conn, "system", "auth.lockout", kind, subjects[kind].split(":", 1)[1],
                                 {"failures": failure.failures, "locked_for_s": failure.locked_for_s,
                                  "address": address, "username": body.username})
            throttle.forget_old(conn, ctx.settings.login_window_s)
        else:
            throttle.clear(conn, subjects["account"])
            audit.record(conn, done[1]["username"], "auth.login", "user", done[1]["username"], {"address": address})
    if done is None:  # raised after the block: the failure counts are committed
        raise HTTPException(401, FAILED)
    token, user = done
    return {"access_token": token, "expires_in_s": ctx.settings.token_ttl_s, "username": user["username"],
            "role": user["role"]}


@router.post("/auth/logout", response_model=Message, summary="End this login session (the token stops working)")
def logout(request: Request, ctx: Ctx, who: Viewer) -> dict:
    secret = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if who.kind == "user" and secret:
        with ctx.write() as conn:
            repo.logout(conn, ctx.pepper, secret)
            audit.record(conn, who.name, "auth.logout", "user", who.name)
    return {"detail": "logged out" if who.kind == "user" else "API keys are revoked by an admin, not logged out"}


@router.get("/auth/me", response_model=MePublic, summary="Who am I (name, role, line scopes)")
def me(who: Viewer) -> dict:
    return {"name": who.name, "role": who.role, "kind": who.kind, "lines": sorted(who.lines)}


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, summary="Create a user (admin)")
def create_user(body: UserCreate, ctx: Ctx, who: Admin, plant_wide: PlantWide) -> dict:
    _known_lines(ctx, body.lines)
    if problem := password_problem(body.password, body.username, body.role):
        raise HTTPException(422, problem)
    with ctx.write() as conn:
        row = repo.create_user(conn, body.username, body.password, body.role, body.display_name, body.lines)
        audit.record(conn, who.name, "user.create", "user", body.username,
                     {"role": body.role.value, "lines": body.lines})
    return row


@router.get("/users", response_model=list[UserPublic], summary="List users (admin)")
def list_users(ctx: Ctx, who: Admin, plant_wide: PlantWide) -> list[dict]:
    with ctx.read() as conn:
        return repo.list_users(conn)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Create a scoped API key for an integrator (admin); the key is shown once")
def create_key(body: ApiKeyCreate, ctx: Ctx, who: Admin, plant_wide: PlantWide) -> dict:
    _known_lines(ctx, body.lines)
    with ctx.write() as conn:
        key, row = repo.create_key(conn, ctx.pepper, body.name, body.role, body.lines, who.name, body.expires_at)
        audit.record(conn, who.name, "api_key.create", "api_key", row["key_id"],
                     {"name": body.name, "role": body.role.value, "lines": body.lines})
    return row | {"key": key}


@router.get("/api-keys", response_model=list[ApiKeyPublic], summary="List active API keys (admin)")
def list_keys(ctx: Ctx, who: Admin, plant_wide: PlantWide) -> list[dict]:
    with ctx.read() as conn:
        return repo.list_keys(conn)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyPublic, summary="Revoke an API key (admin)")
def revoke_key(key_id: str, ctx: Ctx, who: Admin, plant_wide: PlantWide) -> dict:
    with ctx.write() as conn:
        row = repo.revoke_key(conn, key_id)
        audit.record(conn, who.name, "api_key.revoke", "api_key", key_id)
    return row
