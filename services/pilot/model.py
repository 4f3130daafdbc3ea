"""Make sure the registry has a champion per machine kind before the predictive arm runs.

On a fresh clone the registry is empty. The pilot then trains with the training pipeline's
own core (``pipelines.training.train``, quick profile) on run-to-failure history simulated
with *training seeds that no pilot arm uses*, so the predictive arm is scored by a model
that never saw the runs it is judged on. The model is registered like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from contracts.plant import Plant
from services.pilot.runner import LineFactory

TRAINING_SEED = 10_000  # pilot seeds are small integers; training history never overlaps them


def simulate_history(plant: Plant, make_line: LineFactory, seed: int, start: datetime, days: float,
                     tick: Callable[[float], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run-to-failure telemetry and events tables (docs/data-format.md) from the simulated line."""
    line = make_line(plant, seed, start)
    rows, events = [], []
    end, now = start + timedelta(days=days), start
    while now < end:
        now = min(end, now + timedelta(hours=6))
        samples, evs = line.step_until(now)
        rows += [{"machine_id": s.machine_id, "ts": s.ts, "state": s.state.value, **s.signals} for s in samples]
        events += [dict(e.__dict__) for e in evs]
        if tick:
            tick((now - start) / (end - start))
    telemetry = pd.DataFrame(rows)
    telemetry["ts"] = pd.to_datetime(telemetry["ts"], utc=True)
    frame = pd.DataFrame(events)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return telemetry.sort_values(["machine_id", "ts"], kind="stable").reset_index(drop=True), frame


def _is_toy(registry: object, kind: str) -> bool:
    """A champion that is a testing stand-in (``pipelines.testing.toymodel``), not a trained model."""
    from pipelines.models.registry import is_stand_in

    version = registry.champion_version(kind)
    return version is not None and is_stand_in(registry.show(version))


def ensure_champions(plant: Plant, registry_dir: Path, make_line: LineFactory, start: datetime,
                     days: float = 60.0, say: Callable[[str], None] = print,
                     mode_horizons_h: dict[str, float] | None = None) -> dict[str, str]:
    """Train and register a champion for each kind that has none; returns {kind: version} trained.

    A kind whose history has too few failures to learn from gets no model; its machines then
    run without alerts in the predictive arm, and the report's source label says so.
    """
    from pipelines.models import Registry
    from pipelines.training.config import TrainConfig
    from pipelines.training.train import TrainingError, train

    registry = Registry(registry_dir)
    kinds = {m.kind for m in plant.machines()}
    toys = sorted(k for k in kinds if _is_toy(registry, k))
    missing = sorted(k for k in kinds if k in toys or registry.champion_version(k) is None)
    if not missing:
        return {}  # a trained champion per kind: reuse it (no retraining on every pilot)
    if toys:
        say(f"champion for {toys} in {registry_dir} is a toy model (synthetic, untrained): not judging LineWatch by it")
    say(f"no champion for {missing} in {registry_dir}: simulating {days:g} days of run-to-failure history "
        f"(seed {TRAINING_SEED}) and training the quick profile")
    # only the machines of the kinds that need a model: half the plant is half the simulation
    lines = [ln.model_copy(update={"machines": [m for m in ln.machines if m.kind in missing]}) for ln in plant.lines]
    sub = plant.model_copy(update={"lines": [ln for ln in lines if ln.machines]})
    telemetry, events = simulate_history(sub, make_line, TRAINING_SEED, start - timedelta(days=days), days)
    trained = {}
    for kind in missing:
        ids = [m.id for m in plant.machines(kind)]
        tel = telemetry[telemetry["machine_id"].isin(ids)].dropna(axis=1, how="all")
        try:
            cfg = TrainConfig.quick(kind=kind, mode_horizons_h=dict(mode_horizons_h or {}))
            result = train(tel, events[events["machine_id"].isin(ids)], cfg, kind)
        except TrainingError as exc:  # e.g. too few failures of this kind: it runs without alerts
            say(f"no model for {kind}: {exc}")
            continue
        data_range = {**result.data_range, "source": "linewatch pilot: simulated run-to-failure history",
                      "seed": TRAINING_SEED, "days": days}
        version = registry.register(result.bundle, result.metrics, data_range)
        registry.promote(version, force=kind in toys)
        trained[kind] = version
        say(f"trained {kind}: {version}")
    return trained
