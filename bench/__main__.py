"""Run benchmarks: ``python -m bench [name ...]``. Each ``bench/bench_<name>.py`` exposes
``run(results_dir: Path) -> dict`` and writes its own results file; this runner also
writes ``bench/results/summary.json``."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    summary: dict[str, object] = {}
    for name in names:
        print(f"=== bench {name}", flush=True)
        began = time.monotonic()
        summary[name] = importlib.import_module(f"bench.bench_{name}").run(results)
        print(f"=== bench {name} done in {time.monotonic() - began:.1f}s", flush=True)
    path = results / "summary.json"  # merged: running one benchmark keeps the others' figures
    merged = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(merged | summary, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
