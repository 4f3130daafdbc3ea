"""Choose where the predictive arm's alerts come from, and say so in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from contracts.errors import ConfigError
from contracts.plant import Plant
from services.pilot.config import PilotConfig
from services.pilot.runner import AlertSource


def alert_sources(plant: Plant, config: PilotConfig,
                  registry_dir: Path) -> tuple[Callable[[Plant, int], AlertSource] | None, str | None]:
    """A factory of alert sources (one per run) and its label, or ``(None, None)`` if no arm needs scoring."""
    if "predictive" not in config.arms and not config.shadow_scoring:
        return None, None
    if config.predictive == "kafka":
        raise ConfigError("--predictive kafka: the closed loop over a broker is run by "
                          "tests/integration/test_pilot_kafka.py; the report command uses --predictive inprocess")
    from services.pilot.scoring import InProcessScorer, champion_bundles

    try:
        bundles = champion_bundles(plant, registry_dir)
    except ConfigError:
        if "predictive" in config.arms:
            raise
        return None, None  # shadow scoring is optional: without a model the baseline arms still run
    label = InProcessScorer(plant, bundles, config.score_every).name
    return (lambda p, seed: InProcessScorer(p, bundles, config.score_every)), label
