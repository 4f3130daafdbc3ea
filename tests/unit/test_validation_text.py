"""One renderer for pydantic validation errors: the CLI, the API, topics, plant files and
connector mappings all show ``<where><field path>: <message>``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError, field_validator

from contracts import TELEMETRY, ContractError
from contracts.errors import ConfigError
from contracts.plant import parse_plant
from contracts.validation import field_path, validation_lines, validation_text
from services.connectors.core.mapping import parse_mapping
from tests.unit.api.conftest import make_settings, open_client


class _Signal(BaseModel):
    name: str = Field(min_length=2)

    @field_validator("name", mode="after")
    @classmethod
    def _lower(cls, v: str) -> str:
        if v != v.lower():
            raise ValueError("lower case only")
        return v


class _Doc(BaseModel):
    line: str
    signals: list[_Signal]


def _errors(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Doc.model_validate(data)
    return info.value


def test_paths_read_as_written_and_leave_validator_steps_out():
    assert field_path(("signals", 0, "function-after[_lower()]", "name")) == "signals[0].name"
    assert field_path(("body", "password"), skip=("body",)) == "password"
    assert field_path(()) == "(top level)"


def test_one_line_per_error_then_how_many_more():
    exc = _errors({"signals": [{"name": "x"}, {"name": "Ab"}, {}]})
    assert validation_text(exc) == ("line: Field required; signals[0].name: String should have at least 2 characters; "
                                    "signals[1].name: Value error, lower case only; signals[2].name: Field required")
    assert validation_lines(exc.errors(), limit=2, where=lambda loc: f"f.yaml:{len(loc)}: ") == [
        "f.yaml:1: line: Field required", "f.yaml:3: signals[0].name: String should have at least 2 characters",
        "(and 2 more)"]
    assert validation_text(_errors([])) == "(top level): Input should be a valid dictionary or instance of _Doc"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from open_client(make_settings(tmp_path))


def test_every_caller_uses_it(client: TestClient):
    with pytest.raises(ContractError, match=r"^linewatch\.telemetry\.v1: machine_id: Field required"):
        TELEMETRY.decode(b'{"ts": "2026-01-05T00:00:00Z", "seq": 1, "signals": {}}')
    with pytest.raises(ConfigError, match=r"^p\.yaml: lines: Field required"):
        parse_plant({"id": "x"}, "p.yaml")
    with pytest.raises(ConfigError, match=r"^m\.yaml:3: sources\[0\]: Unable to extract tag"):
        parse_mapping("plant: p.yaml\nsources:\n  - kind: opcua\n    endpoint: 3\n", "m.yaml")
    r = client.post("/api/v1/auth/login", json={"username": "li.wei"})
    assert (r.status_code, r.json()["detail"]) == (422, "password: Field required")


def test_the_cli_says_it_on_one_line():
    out = subprocess.run([sys.executable, "-m", "services.cli", "kafka", "topics"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "LINEWATCH_KAFKA__SECURITY_PROTOCOL": "CARRIER_PIGEON"})
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: invalid settings or input: kafka.security_protocol: Input should be")
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
