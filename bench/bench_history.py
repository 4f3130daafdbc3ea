"""History generation rate: samples per second of ``linewatch simulate history`` on the demo plant.

Writes ``bench/results/history.json``. Single process, as the CLI runs it; the figure
includes the physics, sensor model, contract messages and the Parquet writer.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from contracts.plant import load_plant
from simulators.history import write_history

DEMO = Path(__file__).resolve().parents[1] / "simulators" / "plants" / "demo.yaml"
DAYS = float(os.environ.get("LINEWATCH_BENCH_HISTORY_DAYS", "3"))


def run(results_dir: Path) -> dict:
    """Write ``DAYS`` simulated days of the demo plant and measure the rate."""
    plant = load_plant(DEMO)
    with tempfile.TemporaryDirectory() as tmp:
        cpu0 = time.process_time()
        summary = write_history(plant, Path(tmp), DAYS, seed=7)
        cpu = time.process_time() - cpu0
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    result = {
        "days": DAYS, "machines": len(plant.machines()), "samples": summary.samples, "events": summary.events,
        "wall_s": round(summary.seconds, 2), "cpu_s": round(cpu, 2),
        "samples_per_s": round(summary.samples_per_s, 1),
        "samples_per_cpu_s": round(summary.samples / cpu, 1) if cpu > 0 else None,
        "events_per_s": round(summary.events / summary.seconds, 1),
        "bytes_per_sample": round(size / summary.samples, 1),
        "est_60_days_wall_s": round(60 / DAYS * summary.seconds, 1),
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "note": "wall rate depends on machine load; samples_per_cpu_s is the load-independent figure",
    }
    (results_dir / "history.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result
