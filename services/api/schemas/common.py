"""Shared bits of the API models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
UtcDatetime = AwareDatetime


class In(BaseModel):
    """Request bodies: unknown fields are refused so a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def examples(*items: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(items)}, from_attributes=True)


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class Message(BaseModel):
    detail: str
