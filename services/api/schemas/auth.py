"""Auth models: login, users, API keys."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from services.api.schemas.common import In, Name, UtcDatetime, examples
from store.credentials import Role

LineId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]


class LoginCreate(In):
    username: Name = Field(examples=["li.wei"])
    password: str = Field(min_length=1, max_length=200, examples=["s3cret-from-admin-init"])


class TokenPublic(BaseModel):
    model_config = examples({"access_token": "lws_Zx…", "token_type": "bearer", "expires_in_s": 43200,
                             "username": "li.wei", "role": "operator"})
    access_token: str
    token_type: str = "bearer"
    expires_in_s: int
    username: str
    role: Role


class MePublic(BaseModel):
    model_config = examples({"name": "li.wei", "role": "operator", "kind": "user", "lines": []})
    name: str
    role: Role
    kind: str
    lines: list[str]


class UserCreate(In):
    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,62}$", examples=["wang.fang"])]
    password: str = Field(min_length=12, max_length=200, examples=["a-long-random-passphrase"])
    role: Role = Field(examples=["operator"])
    display_name: str = Field(default="", max_length=200, examples=["王芳"])
    lines: list[LineId] = Field(default_factory=list, max_length=100,
                                description="Lines the user may see; empty = all lines.", examples=[["line-1"]])


class UserPublic(BaseModel):
    model_config = examples({"username": "wang.fang", "role": "operator", "display_name": "王芳", "active": True,
                             "created_at": "2026-01-05T08:00:00Z"})
    username: str
    role: Role
    display_name: str
    active: bool
    created_at: UtcDatetime
    lines: list[str] = Field(default_factory=list, description="Lines the user may see; empty = all lines.")


class ApiKeyCreate(In):
    name: str = Field(min_length=1, max_length=200, examples=["SCADA line-1 reader"])
    role: Role = Field(default=Role.VIEWER, examples=["viewer"])
    lines: list[LineId] = Field(default_factory=list, max_length=100,
                                description="Lines the key may see; empty = all lines.", examples=[["line-1"]])
    expires_at: UtcDatetime | None = Field(default=None, examples=["2027-01-01T00:00:00Z"])


class ApiKeyPublic(BaseModel):
    model_config = examples({"key_id": "3f9a1c2b7d4e", "name": "SCADA line-1 reader", "role": "viewer",
                             "scopes": ["line-1"], "created_by": "admin", "created_at": "2026-01-05T08:00:00Z",
                             "expires_at": None, "last_used_at": None})
    key_id: str
    name: str
    role: Role
    scopes: list[str]
    created_by: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The full key: shown once, store it now.", examples=["lwk_3f9a1c2b7d4e_…"])
