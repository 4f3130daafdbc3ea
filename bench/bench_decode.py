"""Telemetry decode cost, µs/record: the pydantic model alone vs the fast path (orjson + checks).

Same 20,000 records of the demo stream (10 machines, 10–11 signals each), best of 5 passes,
process CPU time (the shared 2-core box is busy: wall time would mostly measure the others).
Writes ``results/decode.json``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from contracts.fastdecode import fast_telemetry
from contracts.plant import load_plant
from contracts.topics import TELEMETRY, Topic
from pipelines.testing.samplestream import samples
from runtime.settings import LineWatchSettings


def _best_us(fn, raws: list[bytes], passes: int = 5) -> float:
    best = float("inf")
    for _ in range(passes):
        began = time.process_time()
        for raw in raws:
            fn(raw)
        best = min(best, time.process_time() - began)
    return best / len(raws) * 1e6


def run(results_dir: Path) -> dict:
    plant = load_plant(LineWatchSettings().plant_file)
    raws = [TELEMETRY.encode(s) for s in samples(plant, 2000, seed=1)]
    model_only = Topic(TELEMETRY.name, TELEMETRY.model, TELEMETRY.key_of)
    assert all(TELEMETRY.decode(r) == model_only.decode(r) for r in raws[:2000])
    before = _best_us(model_only.decode, raws)
    after = _best_us(TELEMETRY.decode, raws)
    fast_only = _best_us(fast_telemetry, raws)
    out = {"records": len(raws), "mean_bytes": round(sum(map(len, raws)) / len(raws)),
           "pydantic_model_us_per_record": round(before, 2), "fast_path_us_per_record": round(after, 2),
           "fast_function_us_per_record": round(fast_only, 2), "speedup": round(before / after, 2),
           "loadavg_1m": round(os.getloadavg()[0], 2), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                    time.gmtime())}
    (results_dir / "decode.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out
