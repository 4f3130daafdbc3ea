"""Training time on 1M telemetry rows (synthetic CNC history, 60 s samples): features,
labels and the quick training profile, timed separately. Results: bench/results/training.json."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

from pipelines.features import compute
from pipelines.training.config import TrainConfig
from pipelines.training.synthetic import synthetic_history
from pipelines.training.train import train


def run(results_dir: Path) -> dict:
    """1M rows = 12 machines x ~58 days at 60 s. Returns and writes the timings."""
    rows_target = int(os.environ.get("LINEWATCH_BENCH_TRAINING_ROWS", 1_000_000))
    machines = 12
    days = rows_target / machines / 1440
    t0 = time.perf_counter()
    tel, ev = synthetic_history(n_machines=machines, days=days, seed=11)
    t_data = time.perf_counter() - t0
    cfg = TrainConfig.quick(horizon_hours=12, rul_cap_hours=72, threads=2)
    t0 = time.perf_counter()
    feats = compute(tel, cfg.spec, ev)
    t_features = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = train(tel, ev, cfg, "cnc")
    t_train = time.perf_counter() - t0
    out = {"telemetry_rows": int(len(tel)), "machines": machines, "feature_rows": int(len(feats)),
           "features": len(result.bundle.features), "modes": result.bundle.modes,
           "synthetic_data_seconds": round(t_data, 1), "features_seconds": round(t_features, 1),
           "train_quick_seconds_total": round(t_train, 1), "lightgbm_threads": cfg.threads,
           "score_future_mean_pr_auc": round(result.metrics["score"], 3),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "cpu_count": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
           "python": platform.python_version()}
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "training.json").write_text(json.dumps(out, indent=2) + "\n")
    return out
