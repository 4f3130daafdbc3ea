"""A newly promoted champion is picked up by a running worker, and the model metric follows."""

from __future__ import annotations

from pathlib import Path

from contracts.settings import StoreSettings
from pipelines.models import Registry
from pipelines.scoring.engine import ScoringEngine
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.toymodel import publish_toy_champions, toy_bundle
from store import Store


def loaded_worker(tmp_path: Path) -> ScoringWorker:
    """A worker without its consume loop that has loaded the registry's one (cnc) champion."""
    publish_toy_champions(tmp_path / "reg", kinds=("cnc",))
    settings = ScoringSettings(registry_dir=tmp_path / "reg", scoring=ScoringOptions(reload_every_s=0.01))
    worker = ScoringWorker(settings, store=Store.open(StoreSettings(url=f"sqlite:///{tmp_path}/lw.db")))
    worker.engine = ScoringEngine(worker.plant, {})
    worker._reload(force=True)  # noqa: SLF001 - one reload step, without the consume loop
    return worker


def test_promoted_champion_is_swapped_in_without_losing_windows(tmp_path: Path) -> None:
    worker = loaded_worker(tmp_path)
    first = worker.engine.bundles["cnc"].version
    assert "robot" not in worker.engine.bundles  # no robot champion: robots are windowed, not scored
    metric = lambda v: worker.metrics.registry.get_sample_value(
        "linewatch_scoring_model_info", {"kind": "cnc", "version": v})
    assert metric(first) == 1

    registry = Registry(tmp_path / "reg")
    newer = registry.register(toy_bundle("cnc", seed=3, trees=10), {"holdout_id": "toy", "score": 1.0}, {})
    assert registry.promote(newer).promoted
    worker._reload()  # noqa: SLF001 - as above
    assert worker.engine.bundles["cnc"].version == newer
    assert metric(newer) == 1 and metric(first) is None


def test_a_champion_demoted_while_reloading_keeps_the_current_model(tmp_path: Path) -> None:
    worker = loaded_worker(tmp_path)
    first = worker.engine.bundles["cnc"].version
    worker.registry.champion = lambda kind: None  # the version was read, then the champion went away
    worker.registry.champion_version = lambda kind: "cnc-newer"
    worker._reload()  # noqa: SLF001 - as above
    assert worker.engine.bundles["cnc"].version == first  # not None: scoring carries on with the model it has
    assert worker.metrics.registry.get_sample_value(
        "linewatch_scoring_model_info", {"kind": "cnc", "version": first}) == 1
