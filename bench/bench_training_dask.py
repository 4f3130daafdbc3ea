"""10M-row training through ``--dask local``: ``python -m bench training_dask``.

The 20-day simulated history of ``bench demo_line`` / ``bench streaming`` (physics
simulator, seed 1007, cached in ``var/bench/history``) is tiled with renamed machine ids
until the telemetry has ``LINEWATCH_BENCH_ROWS`` rows (default 10,000,000); the cnc kind
is trained exactly as ``linewatch train --quick --dask local`` does (``distributed.connect
("local")``: 2 worker processes, one thread each). Reports wall time, the client's peak
RSS and each Dask worker's peak RSS (sampled every second), and the holdout score. Writes
``bench/results/training_dask.json``.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.training import distributed
from pipelines.training.config import TrainConfig
from pipelines.training.importer import load_history
from pipelines.training.train import kind_of, train

ROOT = Path(__file__).resolve().parent.parent


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _tiled(frame: pd.DataFrame, copies: int) -> pd.DataFrame:
    parts = [frame.assign(machine_id=(f"t{i}-" if i else "") + frame["machine_id"]) for i in range(copies)]
    return pd.concat(parts, ignore_index=True)


def run(results_dir: Path) -> dict:
    history_dir = ROOT / "var" / "bench" / "history"
    if not (history_dir / "telemetry.parquet").exists():
        raise RuntimeError("run `python -m bench streaming` (or demo_line) first: it simulates var/bench/history")
    rows = int(os.environ.get("LINEWATCH_BENCH_ROWS", "10000000"))
    h = load_history(history_dir / "telemetry.parquet", history_dir / "events.parquet")
    tel = h.telemetry[h.telemetry["machine_id"].map(kind_of) == "cnc"]
    copies = -(-rows // len(tel))
    tel = _tiled(tel, copies).iloc[:rows] if copies > 1 else tel
    ev = _tiled(h.events, copies) if h.events is not None and copies > 1 else h.events
    cfg = TrainConfig.quick()
    load = [round(x, 2) for x in os.getloadavg()]
    print(f"{len(tel):,} telemetry rows, {tel['machine_id'].nunique()} machines; load {load}", flush=True)
    peaks: dict[str, int] = {}
    stop = threading.Event()
    began = time.monotonic()
    with distributed.connect("local") as client, distributed.on_dask(client):
        def sample() -> None:
            while not stop.is_set():
                try:
                    for addr, rss in client.run(_rss).items():
                        peaks[addr] = max(peaks.get(addr, 0), rss)
                except Exception:  # noqa: BLE001 - a busy worker may miss one sample
                    pass
                stop.wait(1.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = train(tel, ev, cfg, "cnc", progress=lambda what, frac: print(
            f"  {time.monotonic() - began:7.1f} s  {frac:4.0%}  {what}", flush=True))
        stop.set()
        sampler.join(5)
        workers = len(client.scheduler_info()["workers"])
    wall = time.monotonic() - began
    res: dict[str, Any] = {
        "what": "linewatch train --quick --dask local (2 worker processes x 1 thread) on tiled simulator history",
        "telemetry_rows": int(len(tel)), "machines": int(tel["machine_id"].nunique()),
        "feature_rows": result.data_range["feature_rows"], "workers": workers, "wall_s": round(wall, 1),
        "peak_rss_per_worker_mb": {a: round(v / 2**20) for a, v in sorted(peaks.items())},
        "peak_rss_client_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "holdout_score": round(float(result.metrics["score"]), 4), "modes": result.bundle.modes,
        "load_at_start": load, "load_at_end": [round(x, 2) for x in os.getloadavg()], "cpu_cores": os.cpu_count()}
    (results_dir / "training_dask.json").write_text(json.dumps(res, indent=2) + "\n")
    return res
