"""Choose where the predictive arm's alerts come from, and say so in the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts.errors import ConfigError
from contracts.plant import Plant
from services.pilot.config import PilotConfig
from services.pilot.runner import AlertSource


def alert_sources(plant: Plant, config: PilotConfig, registry_dir: Path,
                  kafka: Any = None) -> tuple[Callable[[Plant, int], AlertSource] | None, str | None]:
    """A factory of alert sources (one per run) and its label, or ``(None, None)`` if no arm needs scoring.

    ``inprocess``: the scoring core in this process. ``kafka``: per run, a broker of its own,
    the real scoring worker in a thread, and commands through ``linewatch.commands.v1``.
    """
    if "predictive" not in config.arms and not config.shadow_scoring:
        return None, None
    from services.pilot.scoring import InProcessScorer, champion_bundles

    try:
        bundles = champion_bundles(plant, registry_dir)
    except ConfigError:
        if "predictive" in config.arms:
            raise
        return None, None  # shadow scoring is optional: without a model the baseline arms still run
    if config.predictive == "kafka":
        from services.pilot.kafkaloop import BrokerLoop

        label = ("Kafka closed loop: scoring worker (pipelines.scoring.worker) on a private broker per run, "
                 f"commands on linewatch.commands.v1; models {', '.join(sorted(bundles))}")
        return (lambda p, seed: BrokerLoop(p, registry_dir, config.score_every, kafka)), label
    label = InProcessScorer(plant, bundles, config.score_every).name
    return (lambda p, seed: InProcessScorer(p, bundles, config.score_every)), label


def model_thresholds(plant: Plant, registry_dir: Path) -> dict[str, float]:
    """The champion models' alert threshold per failure mode (empty without champions)."""
    from services.pilot.scoring import champion_bundles

    try:
        bundles = champion_bundles(plant, registry_dir)
    except ConfigError:
        return {}
    return {mode: float(t) for b in bundles.values() for mode, t in getattr(b, "thresholds", {}).items()}


def champion_models(plant: Plant, registry_dir: Path) -> dict[str, dict[str, Any]]:
    """Per machine kind: the champion's version, training seed(s) and data range (empty without champions)."""
    from pipelines.models import Registry

    registry = Registry(registry_dir)
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted({m.kind for m in plant.machines()}):
        version = registry.champion_version(kind)
        if version is None:
            continue
        rng = registry.show(version).get("data_range", {})
        seeds = rng.get("seeds", [rng["seed"]] if "seed" in rng else None)
        out[kind] = {"version": version, "training_seeds": seeds, "data_start": rng.get("start"),
                     "data_end": rng.get("end"), "source": rng.get("source", "unknown (not recorded)")}
    return out


def refuse_training_seeds(seeds: list[int], models: dict[str, dict[str, Any]]) -> None:
    """``ConfigError`` if a pilot seed was used to train a champion: it would be judged on its own history."""
    for kind, info in models.items():
        used = sorted(set(seeds) & set(info.get("training_seeds") or []))
        if used:
            raise ConfigError(f"pilot seed(s) {used} trained the {kind} champion {info['version']}: "
                              "judge a model on seeds it never saw (choose other --seeds)")
