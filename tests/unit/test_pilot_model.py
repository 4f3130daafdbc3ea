"""The pilot reuses a trained champion and never judges LineWatch by a toy model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.plant import load_plant
from pipelines.models import Registry
from pipelines.testing.toymodel import publish_toy_champions, toy_bundle
from services.pilot.model import ensure_champions

PLANT = load_plant(Path(__file__).resolve().parents[2] / "simulators" / "plants" / "demo.yaml")
T0 = datetime(2026, 1, 5, tzinfo=UTC)


class Simulated(Exception):
    """Raised by the line factory: the pilot decided to simulate training history."""


def no_line(plant, seed, start):  # a LineFactory that records it was asked
    raise Simulated(seed)


def test_trained_champions_are_reused_without_simulating(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    for kind in ("cnc", "robot"):
        version = registry.register(toy_bundle(kind), {"holdout_id": "h1", "score": 0.5}, {"source": "test"})
        registry.promote(version, force=True)
    assert ensure_champions(PLANT, tmp_path, no_line, T0, say=lambda s: None) == {}


def test_toy_champions_are_replaced_by_a_model_trained_on_separate_seeds(tmp_path: Path) -> None:
    publish_toy_champions(tmp_path)
    said: list[str] = []
    with pytest.raises(Simulated) as info:
        ensure_champions(PLANT, tmp_path, no_line, T0, say=said.append)
    assert info.value.args == (10_000,)                     # training seed, never a pilot seed
    assert any("toy model" in s for s in said) and any("60 days" in s for s in said)
