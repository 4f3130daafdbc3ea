"""Pilot speed: simulated days per wall-clock second for one run-to-failure arm (simulator +
KPI engine) and for one predictive arm scored in-process (toy champion bundles), on the
default plant. Writes ``bench/results/pilot.json``. Run: ``python -m bench pilot``."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from contracts.plant import load_plant
from pipelines.kpis import compute_scopes
from services.pilot.line import simulator_line
from services.pilot.policies import Predictive, RunToFailure
from services.pilot.runner import run_arm
from services.pilot.scoring import InProcessScorer, champion_bundles

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
DAYS = 2.0


def _timed(fn):  # noqa: ANN001, ANN202
    began = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - began


def run(results_dir: Path) -> dict:
    """Measure both arms and write the results file."""
    from datetime import timedelta

    from pipelines.testing.toymodel import publish_toy_champions

    plant = load_plant(ROOT / "simulators" / "plants" / "demo.yaml")
    step = timedelta(hours=2)
    rtf, sim_s = _timed(lambda: run_arm(plant, 1, RunToFailure(), simulator_line, T0, DAYS, step))
    _, kpi_s = _timed(lambda: compute_scopes(rtf.events, scopes=("plant", "line"), start=rtf.start, end=rtf.end))
    with tempfile.TemporaryDirectory() as tmp:
        publish_toy_champions(Path(tmp))
        bundles = champion_bundles(plant, Path(tmp))
        source = InProcessScorer(plant, bundles, score_every=30)
        pred, pred_s = _timed(lambda: run_arm(plant, 1, Predictive(), simulator_line, T0, DAYS, step, source))
    result = {
        "plant": plant.id, "machines": len(plant.machines()), "simulated_days": DAYS, "cpu_count": os.cpu_count(),
        "samples": rtf.samples, "events": len(rtf.events),
        "run_to_failure_sim_days_per_s": round(DAYS / sim_s, 4), "kpi_engine_s": round(kpi_s, 3),
        "kpi_engine_events_per_s": round(len(rtf.events) / kpi_s),
        "predictive_inprocess_sim_days_per_s": round(DAYS / pred_s, 4), "scores": source.scores,
        "note": "wall-clock on a shared 2-core box; a 3-seed x 7-day pilot = 9 runs, 6 of them scored",
    }
    (results_dir / "pilot.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
