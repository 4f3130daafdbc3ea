"""The in-process alert source: the scoring worker's own core (``pipelines.scoring.engine``)
with the registry's champion bundles, fed the line's telemetry and events directly.

Same features, same models, same alert rules as the Kafka worker; only the transport
differs. The report names which source produced the predictive arm.
"""

from __future__ import annotations

from pathlib import Path

from contracts import AlertEvent, TelemetrySample
from contracts.errors import ConfigError
from contracts.plant import Plant


def champion_bundles(plant: Plant, registry_dir: Path) -> dict[str, object]:
    """The champion bundle of every machine kind in the plant; a clear error if one is missing."""
    from pipelines.models import Registry  # heavy (LightGBM): only when the predictive arm runs

    registry = Registry(registry_dir)
    bundles, missing = {}, []
    for kind in sorted({m.kind for m in plant.machines()}):
        bundle = registry.champion(kind)
        if bundle is None:
            missing.append(kind)
        else:
            bundles[kind] = bundle
    if not bundles:
        raise ConfigError(f"no champion model for machine kind(s) {missing} in registry {registry_dir}: "
                          "train one first (`linewatch train --quick`); `linewatch pilot` does it when allowed")
    return bundles


class InProcessScorer:
    """Feeds a ``ScoringEngine`` step by step and returns the alert events it raises."""

    def __init__(self, plant: Plant, bundles: dict[str, object], score_every: int | None = None) -> None:
        from pipelines.scoring.engine import ScoringEngine

        # top_k=0: no top-factor explanations; no policy reads them and they cost ~15 % of scoring
        self.engine = ScoringEngine(plant, bundles, score_every=score_every, top_k=0)
        versions = ", ".join(f"{k}={getattr(b, 'version', '?')}" for k, b in sorted(bundles.items()))
        unscored = sorted({m.kind for m in plant.machines()} - set(bundles))
        self.name = (f"in-process scoring core (pipelines.scoring.engine), models {versions}"
                     + (f"; no model for {', '.join(unscored)}: those machines get no alerts" if unscored else ""))
        self.scores = 0
        self.last_scores: list = []  # the HealthScores of the latest feed (the predictive policy reads them)

    def feed(self, samples: list[TelemetrySample], events: list[object]) -> list[AlertEvent]:
        """Samples and events in time order, then score what is due.

        A restoration or failure ends the episode of an open alert on its component; the
        windows before it are scored first, so they cannot raise an alert after the episode ended.
        """
        alerts: list[AlertEvent] = []
        self.last_scores = []
        ordered = sorted(samples, key=lambda s: (s.ts, s.machine_id))
        i = 0
        for event in sorted(events, key=lambda e: e.ts):
            while i < len(ordered) and ordered[i].ts <= event.ts:
                self.engine.ingest(ordered[i], record_ms=0)
                i += 1
            if self._ends_episode(event):
                alerts += self._score()
            self.engine.add_event(event)
        for sample in ordered[i:]:
            self.engine.ingest(sample, record_ms=0)
        return alerts + self._score()

    def _ends_episode(self, event: object) -> bool:
        kind = getattr(event, "kind", None)
        if kind not in ("failure", "maintenance_done"):
            return False
        opened = self.engine.tracker.open_alerts(event.machine_id)  # type: ignore[attr-defined]
        return bool(opened)

    def _score(self) -> list[AlertEvent]:
        batch = self.engine.score_pending()
        self.scores += len(batch.scores)
        self.last_scores.extend(batch.scores)
        return list(batch.alerts)

    def close(self) -> None:
        """Nothing held open in-process."""
