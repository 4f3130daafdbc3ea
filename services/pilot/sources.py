"""Choose where the predictive arm's alerts come from, and say so in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

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
