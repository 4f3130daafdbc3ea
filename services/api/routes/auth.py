"""Login, the caller, users and API keys."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from services.api.deps import Admin, Ctx, PlantWide, Viewer
from store.repos import audit
from store.repos import auth as repo
from services.api.schemas.common import Message
from services.api.schemas.auth import (
    ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, LoginCreate, MePublic, TokenPublic, UserCreate, UserPublic,
)

router = APIRouter(tags=["auth"])


def _known_lines(ctx: Ctx, lines: list[str]) -> None:
    unknown = [ln for ln in lines if ln not in {line.id for line in ctx.plant.lines}]
    if unknown:
        raise HTTPException(422, f"unknown line(s) {unknown}; the plant has {[ln.id for ln in ctx.plant.lines]}")


@router.post("/auth/login", response_model=TokenPublic, summary="Log in with username and password",
             responses={401: {"model": Message, "description": "wrong username or password"}})
def login(body: LoginCreate, ctx: Ctx) -> dict:
    with ctx.write() as conn:
        done = repo.login(conn, ctx.pepper, body.username, body.password, ctx.settings.token_ttl_s)
        if done is None:
            raise HTTPException(401, "wrong username or password")
        token, user = done
        audit.record(conn, user["username"], "auth.login", "user", user["username"])
    return {"access_token": token, "expires_in_s": ctx.settings.token_ttl_s, "username": user["username"],
            "role": user["role"]}


@router.get("/auth/me", response_model=MePublic, summary="Who am I (name, role, line scopes)")
def me(who: Viewer) -> dict:
    return {"name": who.name, "role": who.role, "kind": who.kind, "lines": sorted(who.lines)}


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, summary="Create a user (admin)")
def create_user(body: UserCreate, ctx: Ctx, who: Admin, plant_wide: PlantWide) -> dict:
    _known_lines(ctx, body.lines)
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
