"""Users, login sessions and API keys in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from store import schema
from store.credentials import (
    Principal,
    Role,
    hash_password,
    new_api_key,
    new_token,
    password_problem,
    token_hash,
    verify_password,
)
from store.errors import Conflict, Invalid, NotFound

U, S, K = schema.users, schema.sessions, schema.api_keys


def now() -> datetime:
    return datetime.now(UTC)


def create_user(conn: Connection, username: str, password: str, role: Role, display_name: str = "",
                lines: list[str] | None = None) -> dict[str, Any]:
    if conn.execute(select(U.c.username).where(U.c.username == username)).first():
        raise Conflict(f"user {username!r} already exists")
    if problem := password_problem(password, username, role):
        raise Invalid(problem)
    row = {"username": username, "password_hash": hash_password(password), "role": role.value,
           "display_name": display_name, "active": True, "created_at": now(), "lines": sorted(set(lines or []))}
    conn.execute(U.insert().values(**row))
    return row


def user_count(conn: Connection, role: Role | None = None) -> int:
    q = select(func.count()).select_from(U)
    if role:
        q = q.where(U.c.role == role.value)
    return conn.execute(q).scalar_one()


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) | {"lines": r["lines"] or []} for r in conn.execute(select(U).order_by(U.c.username)).mappings()]


def login(conn: Connection, pepper: str, username: str, password: str, ttl_s: int) -> tuple[str, dict[str, Any]] | None:
    """A new session token for valid credentials, else None (same answer for unknown users)."""
    user = conn.execute(select(U).where(U.c.username == username)).mappings().first()
    if user is None or not user["active"] or not verify_password(password, user["password_hash"]):
        return None
    token = new_token()
    conn.execute(S.insert().values(token_hash=token_hash(pepper, token), username=username, created_at=now(),
                                   expires_at=now() + timedelta(seconds=ttl_s)))
    conn.execute(S.delete().where(S.c.expires_at < now()))  # keep the table small
    return token, dict(user)


def logout(conn: Connection, pepper: str, token: str) -> None:
    conn.execute(S.delete().where(S.c.token_hash == token_hash(pepper, token)))


def principal_for(conn: Connection, pepper: str, secret: str, idle_s: float | None = None) -> Principal | None:
    """The caller behind a session token or API key, or None if unknown, expired (absolute
    lifetime, or unused for ``idle_s``) or revoked."""
    digest = token_hash(pepper, secret)
    if secret.startswith("lwk_"):
        key = conn.execute(select(K).where(K.c.secret_hash == digest)).mappings().first()
        if key is None or key["revoked_at"] is not None or (key["expires_at"] and key["expires_at"] <= now()):
            return None
        return Principal(name=f"key:{key['key_id']}", role=Role(key["role"]), kind="api_key",
                         lines=frozenset(key["scopes"] or []))
    row = conn.execute(select(U.c.username, U.c.role, U.c.active, U.c.lines, S.c.expires_at, S.c.created_at,
                              S.c.last_seen_at)
                       .join(S, S.c.username == U.c.username).where(S.c.token_hash == digest)).first()
    if row is None or not row.active or row.expires_at <= now():
        return None
    if idle_s is not None and (row.last_seen_at or row.created_at) <= now() - timedelta(seconds=idle_s):
        return None
    return Principal(name=row.username, role=Role(row.role), lines=frozenset(row.lines or []))


def create_key(conn: Connection, pepper: str, name: str, role: Role, lines: list[str], created_by: str,
               expires_at: datetime | None) -> tuple[str, dict[str, Any]]:
    """A new API key: returns the full key (shown once) and its stored row."""
    key_id, key = new_api_key()
    row = {"key_id": key_id, "name": name, "secret_hash": token_hash(pepper, key), "role": role.value,
           "scopes": sorted(set(lines)), "created_by": created_by, "created_at": now(), "expires_at": expires_at,
           "revoked_at": None, "last_used_at": None}
    conn.execute(K.insert().values(**row))
    return key, row


def list_keys(conn: Connection, include_revoked: bool = False) -> list[dict[str, Any]]:
    q = select(K).order_by(K.c.created_at)
    if not include_revoked:
        q = q.where(K.c.revoked_at.is_(None))
    return [dict(r) for r in conn.execute(q).mappings()]


def revoke_key(conn: Connection, key_id: str) -> dict[str, Any]:
    row = conn.execute(select(K).where(K.c.key_id == key_id)).mappings().first()
    if row is None:
        raise NotFound(f"API key {key_id!r} not found")
    if row["revoked_at"] is None:
        conn.execute(K.update().where(K.c.key_id == key_id).values(revoked_at=now()))
    return dict(row)


def touch_session(conn: Connection, pepper: str, secret: str) -> None:
    """Record that a session token was used (the idle timeout counts from here)."""
    conn.execute(S.update().where(S.c.token_hash == token_hash(pepper, secret)).values(last_seen_at=now()))


def touch_key(conn: Connection, principal_name: str) -> None:
    conn.execute(K.update().where(K.c.key_id == principal_name.removeprefix("key:")).values(last_used_at=now()))
