"""Fixtures shared by every tier. Servers are real and started by the project's own code."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Unique names for topics and consumer groups, so tests never share state."""
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sample_factory() -> Callable[..., Any]:
    from contracts.examples import telemetry

    return telemetry
