"""Roles, password hashing and opaque tokens (no FastAPI here).

Tokens and API key secrets are random; only HMAC-SHA256(pepper, token) is stored, so a
copy of the database does not let anyone log in. Passwords use scrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """Roles in increasing power: each includes the ones before it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (login token) or an API key, with role and line scopes."""

    name: str
    role: Role
    kind: str = "user"  # user | api_key
    lines: frozenset[str] = field(default_factory=frozenset)  # empty: every line

    def sees_line(self, line_id: str) -> bool:
        return not self.lines or line_id in self.lines


_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


MIN_PASSWORD = 12  # every user (OWASP ASVS 2.1.1); no composition rules (2.1.9)
ADMIN_MIN_STRENGTH = 3  # zxcvbn score 0-4: admins need "safely unguessable" (no common or breached password)


def password_problem(password: str, username: str, role: Role) -> str | None:
    """Why ``password`` is not allowed for this user, or None. Every user: 12+ characters and not
    containing the user name; admins also need a zxcvbn strength of 3+ (ASVS 2.1.7/2.1.8), which
    refuses common and breached passwords, keyboard walks and dictionary words with digits."""
    if len(password) < MIN_PASSWORD:
        return f"password must have at least {MIN_PASSWORD} characters"
    if username and username.lower() in password.lower():
        return "password must not contain the user name"
    if role == Role.ADMIN:
        from zxcvbn import zxcvbn

        result = zxcvbn(password[:100], user_inputs=[username, "linewatch"])
        if result["score"] < ADMIN_MIN_STRENGTH:
            hint = (result.get("feedback") or {}).get("warning") or "too easy to guess"
            return f"password too weak for an admin ({hint}); use a long passphrase of unrelated words"
    return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def token_hash(pepper: str, token: str) -> str:
    """What the store keeps of a token or key secret."""
    return hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    return "lws_" + secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """(key id, full key). The full key is shown once; its id is public."""
    key_id = secrets.token_hex(6)
    return key_id, f"lwk_{key_id}_{secrets.token_urlsafe(32)}"


def new_password() -> str:
    return secrets.token_urlsafe(18)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Webhook signature: ``sha256=`` + HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
