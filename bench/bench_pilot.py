"""Pilot wall time: the default pilot's arms (run-to-failure shadow-scored, optimised preventive,
predictive) on a measured slice — ``SEEDS`` × ``DAYS`` with the default workers — and the default
run (10 seeds × 14 days) extrapolated from it (the cost is linear in seed-days: every run is
independent). The training basis and the champions are built before the clock starts (cached;
a fresh clone pays for them once). Load average before and after is recorded: on a shared
2-core box it decides the figure. Writes ``bench/results/pilot.json``. Run:
``python -m bench pilot`` (``LINEWATCH_REGISTRY_DIR`` = registry with the trained champions).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from contracts.plant import load_plant
from services.pilot.config import PilotConfig
from services.pilot.line import simulator_line

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [1, 2]
DAYS = 1.0
TARGET_S = 600.0


def run(results_dir: Path) -> dict:
    """Measure the slice, extrapolate the default run, write the results file."""
    from services.pilot.model import ensure_champions
    from services.pilot.pilot import cached_training_basis, median_lives, run_pilot
    from services.pilot.sources import alert_sources, model_thresholds

    plant = load_plant(ROOT / "simulators" / "plants" / "demo.yaml")
    registry = Path(os.environ.get("LINEWATCH_REGISTRY_DIR", ROOT / "var" / "registry"))
    default = PilotConfig()
    config = default.model_copy(update={"seeds": SEEDS, "days": DAYS})
    basis = cached_training_basis(plant, simulator_line, default, registry)
    ensure_champions(plant, registry, simulator_line, default.start, default.training_days,
                     mode_horizons_h=default.alert_window_h(median_lives(basis)))
    sources, label = alert_sources(plant, config, registry)
    load_before = os.getloadavg()
    began = time.perf_counter()
    report = run_pilot(plant, config, simulator_line, sources, None, label, model_thresholds(plant, registry),
                       basis=basis, registry_dir=registry)
    wall = time.perf_counter() - began
    load_after = os.getloadavg()
    scale = len(default.seeds) * default.days / (len(SEEDS) * DAYS)
    projected = wall * scale
    result = {
        "plant": plant.id, "machines": len(plant.machines()), "cpu_count": os.cpu_count(),
        "workers": config.workers, "measured": {"seeds": SEEDS, "days": DAYS, "arms": config.arms,
                                                "wall_s": round(wall, 1)},
        "default_run": {"seeds": len(default.seeds), "days": default.days,
                        "projected_wall_s": round(projected, 1), "target_s": TARGET_S,
                        "met": projected <= TARGET_S},
        "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                "after": [round(x, 2) for x in load_after]},
        "predictive_source": label, "commands": report["assumptions"]["commands_issued"],
        "note": ("projected = measured wall × (10 seeds × 14 days) / (measured seeds × days); excludes the "
                 "one-off training basis and champion training (cached). Shared 2-core box: see the load average."),
    }
    (results_dir / "pilot.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
