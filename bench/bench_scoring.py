"""Scoring benchmark against a real broker (its own, on free ports): ``python -m bench scoring``.

Writes ``bench/results/scoring.json`` and ``bench/results/scoring_lag.png``:
1. worker throughput (records/s, in-process, profiled) and its ratio to a bare
   kafka-python consume loop over the same records in the same run;
2. end-to-end latency p50/p99 (sample time -> score stored) at half that throughput;
3. two worker processes vs one on the same records;
4. LightGBM predict cost per row, native vs Treelite GTIL vs TL2cgen-compiled;
5. consumer lag over a run of the demo plant streamed at 3600x real time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `linewatch score` does: before LightGBM loads

import cProfile
import io
import json
import pstats
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from kafka import KafkaConsumer, OffsetAndMetadata
from rich.console import Console

from bench import _scoring_kafka as kx
from bench._scoring_predict import predict_cost
from contracts.plant import load_plant
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import TELEMETRY
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import renamed_plant, samples
from pipelines.testing.toymodel import publish_toy_champions
from runtime import broker
from runtime.admin import ensure_topics
from runtime.settings import LineWatchSettings
from store import Store
from store.repos import scores as score_repo

console = Console()
PER_MACHINE = 2000
SPEED = 3600.0
LAG_SECONDS = 60.0


def _scores(db: Path) -> tuple[int, float]:
    """(scores stored, seconds between the first and the last store write)."""
    try:
        store = Store.open(StoreSettings(url=f"sqlite:///{db}"), upgrade=False)
        with store.engine.connect() as conn:
            n, first, last = score_repo.ingest_span(conn)
        store.close()
    except Exception:  # noqa: BLE001 - the worker may not have created the file yet
        return 0, 0.0
    if not n:
        return 0, 0.0
    as_dt = lambda v: v if not isinstance(v, str) else datetime.fromisoformat(v)
    return n, (as_dt(last) - as_dt(first)).total_seconds()


def _bare_loop(kafka: KafkaSettings, start: dict, n: int, decode: bool) -> float:
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, max_poll_records=2000, **kafka.client_kwargs())
    consumer.assign(list(start))
    for tp, off in start.items():
        consumer.seek(tp, off)
    got, began = 0, time.perf_counter()
    while got < n:
        for batch in consumer.poll(timeout_ms=500).values():
            for rec in batch:
                if decode:
                    TELEMETRY.decode(rec.value)
            got += len(batch)
    elapsed = time.perf_counter() - began
    consumer.close()
    return n / elapsed


def _rewind_group(kafka: KafkaSettings, group: str, start: dict) -> None:
    consumer = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka.client_kwargs())
    consumer.assign(list(start))
    consumer.commit({tp: OffsetAndMetadata(off, None, -1) for tp, off in start.items()})
    consumer.close()


def _worker_pass(kafka: KafkaSettings, plant, registry: Path, work: Path, group: str, start: dict,
                 expected: int, profile: cProfile.Profile | None = None) -> float:
    """Seconds for an in-process worker to score ``expected`` windows from ``start``."""
    _rewind_group(kafka, group, start)
    store = Store.open(StoreSettings(url=f"sqlite:///{work}/{group}.db"))
    settings = ScoringSettings(kafka=kafka, registry_dir=registry, scoring=ScoringOptions(group_id=group))
    worker = ScoringWorker(settings, plant=plant, store=store)
    done = lambda: worker.metrics.registry.get_sample_value("linewatch_scoring_scores_total") >= expected
    began = time.perf_counter()
    if profile:
        profile.enable()
    worker.run(until=done)
    if profile:
        profile.disable()
    return time.perf_counter() - began


def throughput(kafka: KafkaSettings, plant, registry: Path, work: Path) -> dict:
    """(1): the same records through a bare loop, a decoding loop and the scoring worker."""
    start = kx.end_offsets(kafka, kx.partitions(kafka))
    n = kx.produce(kafka, samples(plant, PER_MACHINE, degrading=(plant.machines()[1].id,)))
    bare = _bare_loop(kafka, start, n, decode=False)
    bare_decode = _bare_loop(kafka, start, n, decode=True)
    expected = n // 5  # toy model step
    elapsed = _worker_pass(kafka, plant, registry, work, "bench-tp", start, expected)
    profile = cProfile.Profile()  # a second pass under the profiler: where the time goes
    _worker_pass(kafka, plant, registry, work, "bench-prof", start, expected, profile)
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(25)
    rate = n / elapsed
    return {"records": n, "bare_consume_records_per_s": round(bare), "bare_consume_decode_records_per_s":
            round(bare_decode), "worker_records_per_s": round(rate), "ratio_worker_to_bare": round(rate / bare, 4),
            "ratio_worker_to_bare_decode": round(rate / bare_decode, 4), "scores": expected,
            "profile_top": [" ".join(ln.split()) for ln in text.getvalue().splitlines() if "(" in ln][:24]}


def scale_out(kafka: KafkaSettings, plant_for, registry: Path, work: Path) -> dict:
    """(3): the same number of records through one and through two worker processes."""
    out = {}
    for workers in (1, 2):
        plant = plant_for(f"w{workers}")
        group = f"bench-w{workers}"
        kx.start_group_at_end(kafka, group)
        n = kx.produce(kafka, samples(plant, PER_MACHINE))
        dbs = [work / f"{group}-{i}" for i in range(workers)]
        for d in dbs:
            d.mkdir()
        procs = [kx.worker_process(kafka, plant, d, registry, group) for d in dbs]
        try:
            deadline = time.monotonic() + 300
            while sum(_scores(d / f"{group}.db")[0] for d in dbs) < n // 5 and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            kx.stop(procs)
        span = max(_scores(d / f"{group}.db")[1] for d in dbs)
        out[f"workers_{workers}_records_per_s"] = round(n / span) if span else None
    if out.get("workers_1_records_per_s") and out.get("workers_2_records_per_s"):
        out["speedup_2_vs_1"] = round(out["workers_2_records_per_s"] / out["workers_1_records_per_s"], 2)
    return out


def latency(kafka: KafkaSettings, plant, registry: Path, work: Path, rate: float) -> dict:
    """(2): end-to-end latency (sample time -> score stored) with samples paced at ``rate``.

    Samples carry the wall-clock time they are sent; every 5th per machine is a window
    end (the model's step, as in the throughput run), its latency is store time - sample time."""
    group = "bench-lat"
    kx.start_group_at_end(kafka, group)
    proc = kx.worker_process(kafka, plant, work, registry, group)
    try:
        time.sleep(8)  # process start and group join: not part of the latency
        sent = kx.produce_paced(kafka, plant, rate, 20.0)
        deadline = time.monotonic() + 120
        while _scores(work / f"{group}.db")[0] < sent // 5 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        kx.stop([proc])
    store = Store.open(StoreSettings(url=f"sqlite:///{work}/{group}.db"), upgrade=False)
    with store.engine.connect() as conn:
        rows = score_repo.latencies(conn)
    lat = np.array([(stored - ts).total_seconds() for ts, stored in rows])
    return {"rate_records_per_s": round(rate), "samples": sent, "scores": len(lat),
            "p50_s": round(float(np.percentile(lat, 50)), 3), "p99_s": round(float(np.percentile(lat, 99)), 3),
            "max_s": round(float(lat.max()), 3)}


def lag_run(kafka: KafkaSettings, plant, registry: Path, work: Path, results: Path) -> dict:
    """(5): the demo plant at 3600x real time for LAG_SECONDS; lag sampled every second."""
    group = "bench-lag"
    kx.start_group_at_end(kafka, group)
    proc = kx.worker_process(kafka, plant, work, registry, group)
    period = min(m.sample_period_s for m in plant.machines())
    rate = len(plant.machines()) * SPEED / period
    probe = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka.client_kwargs())
    tps = kx.partitions(kafka)
    series: list[tuple[float, int]] = []
    try:
        time.sleep(8)
        producer = threading.Thread(target=kx.produce_paced, args=(kafka, plant, rate, LAG_SECONDS, period))
        began = time.monotonic()
        producer.start()
        while producer.is_alive() or (series and series[-1][1] > 0 and time.monotonic() - began < LAG_SECONDS + 60):
            series.append((round(time.monotonic() - began, 1), kx.group_lag(probe, group, tps)))
            time.sleep(1.0)
        producer.join()
    finally:
        kx.stop([proc])
        probe.close()
    _plot(series, rate, results / "scoring_lag.png")
    lags = [lag for _, lag in series]
    return {"speed": SPEED, "records_per_s": round(rate), "seconds": LAG_SECONDS, "max_lag": max(lags),
            "mean_lag": round(float(np.mean(lags)), 1), "final_lag": lags[-1], "series": series,
            "plot": "bench/results/scoring_lag.png"}


def _plot(series, rate: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot([t for t, _ in series], [lag for _, lag in series], color="#1f4e79")
    ax.set_xlabel("seconds since the stream started")
    ax.set_ylabel("consumer lag (records)")
    ax.set_title(f"linewatch-scoring lag, demo plant at {SPEED:.0f}x ({rate:.0f} samples/s)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _save(path: Path, res: dict) -> None:
    path.write_text(json.dumps(res, indent=2, default=str) + "\n")


def run(results_dir: Path) -> dict:
    """Run every part (results saved after each); returns the figures without the lag series.

    ``LINEWATCH_BENCH_PARTS=latency,lag_3600x`` re-runs only those parts and keeps the rest."""
    work = Path(tempfile.mkdtemp(prefix="lw-bench-scoring-"))
    info = broker.start(work / "kafka", timeout_s=180)
    out = results_dir / "scoring.json"
    try:
        kafka = KafkaSettings(bootstrap_servers=info.bootstrap, topic_partitions=6)
        ensure_topics(kafka)
        registry = work / "registry"
        console.print("training toy champions")
        publish_toy_champions(registry)
        base = load_plant(LineWatchSettings().plant_file)
        plant_for = lambda tag: renamed_plant(base, tag)
        res: dict = {"machines": len(base.machines()), "partitions": 6, "cpu_cores": os.cpu_count(),
                     "load_average_at_start": os.getloadavg()}
        phases = [
            ("predict_cost", "(4) predict cost per row", lambda: predict_cost()),
            ("throughput", "(1) throughput vs bare consume loop",
             lambda: throughput(kafka, plant_for("tp"), registry, work)),
            ("scale_out", "(3) two workers vs one", lambda: scale_out(kafka, plant_for, registry, work)),
            ("latency", "(2) end-to-end latency at half throughput", lambda: latency(
                kafka, plant_for("lat"), registry, work, res["throughput"]["worker_records_per_s"] / 2)),
            ("lag_3600x", "(5) lag, demo plant at 3600x", lambda: lag_run(kafka, base, registry, work, results_dir)),
        ]
        only = [p for p in os.environ.get("LINEWATCH_BENCH_PARTS", "").split(",") if p]
        if only and out.exists():  # re-run some parts, keep the others' figures
            res = json.loads(out.read_text()) | {k: v for k, v in res.items() if k not in ("predict_cost",)}
        for key, title, phase in phases:
            if only and key not in only:
                continue
            console.print(title)
            res[key] = phase()
            _save(out, res)
    finally:
        broker.stop(work / "kafka")
        shutil.rmtree(work, ignore_errors=True)
    return {k: v for k, v in res.items() if k != "lag_3600x"} | {"lag_3600x": {
        k: v for k, v in res["lag_3600x"].items() if k != "series"}}
