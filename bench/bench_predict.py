"""``linewatch predict`` on 250k to 4M telemetry rows: throughput and peak memory (RSS) of the
command, to show memory is bounded by the chunk size and the per-machine window, not the file.

Synthetic CNC history (12 machines, 60 s samples) as one Parquet file per size, written as a
single row group (the worst case for a reader); a small model trained first on a separate short
history. Each size runs in its own process with the default ``--chunk-rows``; peak RSS is that
process's ``ru_maxrss``. Explanations (LightGBM ``pred_contrib``) are timed on a 20k-row file
separately. The 1-minute load average is recorded before and after each run (shared machine).
Results: ``bench/results/predict.json``; sizes from ``LINEWATCH_BENCH_PREDICT_ROWS``
(default ``250000,1000000,2000000``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.features import FeatureSpec
from pipelines.models import Registry
from pipelines.training.config import TrainConfig
from pipelines.training.synthetic import synthetic_history
from pipelines.training.train import train
from services.cli import predict as predict_cli

MACHINES = 12


def _measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``linewatch`` process."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:]); dt = time.perf_counter() - t; "
             "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "services.cli", *args],
                         env=env, capture_output=True, text=True, check=True)
    wall, rss_kb = out.stdout.split()[-2:]
    return float(wall), int(rss_kb) / 1024


def run(results_dir: Path) -> dict:
    sizes = [int(s) for s in os.environ.get("LINEWATCH_BENCH_PREDICT_ROWS", "250000,1000000,2000000").split(",")]
    out: dict = {"machines": MACHINES, "runs": [], "load_avg_1m_start": round(os.getloadavg()[0], 2),
                 "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tel, ev = synthetic_history(n_machines=3, days=3, seed=2)
        cfg = TrainConfig.quick(horizon_hours=12, rul_cap_hours=48, max_rounds=60, min_failures=2,
                                spec=FeatureSpec(baseline_rows=120, step=10))
        result = train(tel, ev, cfg, "cnc")
        reg = Registry(root / "registry")
        reg.promote(reg.register(result.bundle, result.metrics, result.data_range), force=True)
        env = {**os.environ, "LINEWATCH_REGISTRY_DIR": str(root / "registry"), "OMP_NUM_THREADS": "1"}
        out["max_window_rows"] = result.bundle.feature_spec.max_window
        out["features"] = len(result.bundle.features)
        out["chunk_rows"] = predict_cli.CHUNK_ROWS
        out["kept_between_chunks_rows"] = MACHINES * result.bundle.feature_spec.max_window
        for rows in sizes + [20_000]:
            explain = rows == 20_000
            path = root / f"tel_{rows}.parquet"
            big, _ = synthetic_history(n_machines=MACHINES, days=rows / MACHINES / 1440, seed=3)
            big.to_parquet(path, index=False)
            n = len(big)
            del big
            args = ["predict", str(path), "-o", str(root / "out.parquet")]
            load_before = round(os.getloadavg()[0], 2)
            wall, rss = _measure(args + ([] if explain else ["--no-explain"]), env)
            run_ = {"rows": n, "explain": explain, "seconds": round(wall, 1), "rows_per_second": round(n / wall),
                    "peak_rss_mb": round(rss, 1), "load_avg_1m_before": load_before,
                    "load_avg_1m_after": round(os.getloadavg()[0], 2)}
            out["runs"].append(run_)
            print(run_, flush=True)
            path.unlink()
    plain = [r for r in out["runs"] if not r["explain"]]
    if len(plain) >= 2:
        out["rss_growth_mb_smallest_to_largest"] = round(plain[-1]["peak_rss_mb"] - plain[0]["peak_rss_mb"], 1)
    out["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "predict.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    print(json.dumps(run(Path(__file__).resolve().parent / "results"), indent=2))
    time.sleep(0)
