"""Streaming at the hardware's limit (issue 17): ``python -m bench streaming``.

Own broker on free ports, 6 partitions, a champion trained by ``linewatch train --quick``
on 20 days of simulated history (cached in ``var/bench/registry``, as ``bench demo_line``),
alerts on. Writes ``bench/results/streaming.json`` and ``bench/results/streaming_plant.png``:

1. ``throughput``: the same records through a bare kafka-python consume loop, the same
   loop + ``TELEMETRY.decode``, librdkafka bare + decode, and the scoring worker on each
   transport (in-process: store + publish + commit), records/s and CPU-seconds;
2. ``latency``: a worker process fed at half its measured maximum, sample time -> score
   stored, p50/p99;
3. ``scale``: 1, 2 and 4 worker processes over the same number of records: CPU-seconds
   per million records (wall clock cannot scale on 2 cores, CPU per record must stay flat);
4. ``plant``: a virtual plant of 1,000 machines at 10 Hz (10,000 samples/s) for a bounded
   time through N workers: lag every second, throughput, latency, plot.

Every part records the load average (the machine is shared). ``LINEWATCH_BENCH_PARTS``
re-runs only some parts and keeps the others' figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `linewatch score` does: before LightGBM loads

import json
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from kafka import KafkaConsumer, OffsetAndMetadata
from rich.console import Console

from bench import _scoring_kafka as kx
from bench.bench_demo_line import ensure_champion
from contracts.messages import TelemetrySample
from contracts.plant import Plant, load_plant
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import TELEMETRY
from pipelines.models import Registry
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import renamed_plant, samples
from runtime import broker
from runtime.admin import ensure_topics
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from store import Store
from store.repos import scores as score_repo

console = Console()
ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 6
TP_COPIES, TP_PER_MACHINE = 4, 1200  # 40 machines x 1,200 samples = 48,000 records
SCALE_COPIES, SCALE_PER_MACHINE = 4, 1000
PLANT_MACHINES, PLANT_HZ, PLANT_SECONDS = 1000, 10.0, 60.0
_TICK = os.sysconf("SC_CLK_TCK")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def plant_of(base: Plant, copies: int, tag: str) -> Plant:
    """``copies`` renamed copies of the demo plant's lines as one plant."""
    lines = []
    for i in range(copies):
        lines += renamed_plant(base, f"{tag}{i}").model_dump(mode="json")["lines"]
    return Plant.model_validate(base.model_dump(mode="json") | {"lines": lines})


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _stored(db: Path) -> tuple[int, list[float]]:
    """(scores stored, latencies sample time -> stored in seconds) of one SQLite store."""
    try:
        store = Store.open(StoreSettings(url=f"sqlite:///{db}"), upgrade=False)
        with store.engine.connect() as conn:
            rows = score_repo.latencies(conn)
        store.close()
    except Exception:  # noqa: BLE001 - the worker may not have created it yet
        return 0, []
    as_dt = lambda v: v if not isinstance(v, str) else datetime.fromisoformat(v)
    return len(rows), [(as_dt(b) - as_dt(a)).total_seconds() for a, b in rows]


def _count(db: Path) -> int:
    try:
        store = Store.open(StoreSettings(url=f"sqlite:///{db}"), upgrade=False)
        with store.engine.connect() as conn:
            n = score_repo.count(conn)
        store.close()
        return int(n)
    except Exception:  # noqa: BLE001 - a store the worker has not created yet counts as no scores
        return 0


def _expected(plant: Plant, per_machine: int, step: int) -> int:
    return len(plant.machines()) * (per_machine // step)


# ---------- (1) throughput
def _bare_kafka_python(kafka: KafkaSettings, start: dict, n: int, decode: bool) -> dict:
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, max_poll_records=2000, **kafka.client_kwargs())
    consumer.assign(list(start))
    for tp, off in start.items():
        consumer.seek(tp, off)
    got, began, cpu = 0, time.perf_counter(), time.process_time()
    while got < n:
        for batch in consumer.poll(timeout_ms=500).values():
            if decode:
                for rec in batch:
                    TELEMETRY.decode(rec.value)
            got += len(batch)
    out = {"records_per_s": round(n / (time.perf_counter() - began)), "cpu_s": round(time.process_time() - cpu, 2)}
    consumer.close()
    return out


def _bare_librdkafka(kafka: KafkaSettings, start: dict, n: int, decode: bool) -> dict:
    import confluent_kafka as ck

    consumer = ck.Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": "bench-bare",
                            "enable.auto.commit": False})
    consumer.assign([ck.TopicPartition(tp.topic, tp.partition, off) for tp, off in start.items()])
    got, began, cpu = 0, time.perf_counter(), time.process_time()
    while got < n:
        msgs = consumer.consume(2000, timeout=0.5)
        if decode:
            for m in msgs:
                TELEMETRY.decode(m.value())
        got += len(msgs)
    out = {"records_per_s": round(n / (time.perf_counter() - began)), "cpu_s": round(time.process_time() - cpu, 2)}
    consumer.close()
    return out


def _rewind_group(kafka: KafkaSettings, group: str, start: dict) -> None:
    consumer = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka.client_kwargs())
    consumer.assign(list(start))
    consumer.commit({tp: OffsetAndMetadata(off, None, -1) for tp, off in start.items()})
    consumer.close()


def _worker_pass(kafka: KafkaSettings, plant: Plant, registry: Path, work: Path, group: str, start: dict,
                 n: int, expected: int) -> dict:
    _rewind_group(kafka, group, start)
    store = Store.open(StoreSettings(url=f"sqlite:///{work}/{group}.db"))
    settings = ScoringSettings(kafka=kafka, registry_dir=registry, scoring=ScoringOptions(group_id=group))
    worker = ScoringWorker(settings, plant=plant, store=store)
    scores = lambda: worker.metrics.registry.get_sample_value("linewatch_scoring_scores_total") or 0
    began, cpu = time.perf_counter(), time.process_time()
    worker.run(until=lambda: scores() >= expected)
    elapsed, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    alerts = sum(worker.metrics.registry.get_sample_value("linewatch_scoring_alert_events_total", {"action": a})
                 or 0 for a in ("raised", "updated", "cleared"))
    store.close()
    return {"records_per_s": round(n / elapsed), "cpu_s": round(cpu_s, 2), "scores": int(scores()),
            "alert_events": int(alerts), "cpu_us_per_record": round(cpu_s / n * 1e6, 1)}


def throughput(kafka: KafkaSettings, base: Plant, registry: Path, work: Path, step: int) -> dict:
    plant = plant_of(base, TP_COPIES, "tp")
    start = kx.end_offsets(kafka, kx.partitions(kafka))
    degrading = tuple(m.id for m in plant.machines()[1::5])
    n = kx.produce(kafka.model_copy(update={"transport": "confluent"}),
                   samples(plant, TP_PER_MACHINE, degrading=degrading))
    expected = _expected(plant, TP_PER_MACHINE, step)
    res: dict[str, Any] = {"records": n, "machines": len(plant.machines()), "load_before": _load()}
    res["bare_kafka_python"] = _bare_kafka_python(kafka, start, n, decode=False)
    res["bare_kafka_python_decode"] = _bare_kafka_python(kafka, start, n, decode=True)
    res["bare_librdkafka"] = _bare_librdkafka(kafka, start, n, decode=False)
    res["bare_librdkafka_decode"] = _bare_librdkafka(kafka, start, n, decode=True)
    for transport in ("kafka-python", "confluent"):
        console.print(f"  worker, transport {transport}")
        res[f"worker_{transport}"] = _worker_pass(kafka.model_copy(update={"transport": transport}), plant, registry,
                                                  work, f"bench-tp-{transport}", start, n, expected)
    res["ratio_worker_kafka_python_to_bare_decode"] = round(
        res["worker_kafka-python"]["records_per_s"] / res["bare_kafka_python_decode"]["records_per_s"], 3)
    res["load_after"] = _load()
    return res


# ---------- worker processes
def _worker(kafka: KafkaSettings, plant: Plant, work: Path, registry: Path, group: str, transport: str,
            name: str) -> Any:
    os.environ["LINEWATCH_KAFKA__TRANSPORT"] = transport  # inherited by the child
    try:
        d = work / name
        d.mkdir(exist_ok=True)
        return kx.worker_process(kafka, plant, d, registry, group), d / f"{group}.db"
    finally:
        os.environ.pop("LINEWATCH_KAFKA__TRANSPORT", None)


def _idle(procs: list[Any], settle_s: float = 3.0, timeout_s: float = 90.0) -> None:
    """Wait until the worker processes have started, loaded models and joined (CPU flat)."""
    deadline = time.monotonic() + timeout_s
    time.sleep(8)
    last = sum(_cpu_s(p.pid) for p in procs)
    while time.monotonic() < deadline:
        time.sleep(settle_s)
        now = sum(_cpu_s(p.pid) for p in procs)
        if now - last < 0.15 * settle_s * len(procs):
            return
        last = now


# ---------- (2) latency
def latency(kafka: KafkaSettings, base: Plant, registry: Path, work: Path, rate: float, transport: str,
            step: int) -> dict:
    plant = plant_of(base, TP_COPIES, f"lat{transport[:2]}")
    group = f"bench-lat-{transport}"
    kx.start_group_at_end(kafka, group)
    proc, db = _worker(kafka, plant, work, registry, group, transport, group)
    try:
        _idle([proc])
        load = _load()
        sent = kx.produce_paced(kafka.model_copy(update={"transport": "confluent"}), plant, rate, 20.0)
        deadline = time.monotonic() + 120
        while _count(db) < sent // len(plant.machines()) // step * len(plant.machines()) * 0.98 \
                and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        kx.stop([proc])
    n, lat = _stored(db)
    if not lat:
        return {"transport": transport, "rate_records_per_s": round(rate), "samples": sent, "scores": 0,
                "error": "no score stored (worker failed to start?)", "load": load}
    arr = np.array(lat)
    return {"transport": transport, "rate_records_per_s": round(rate), "samples": sent, "scores": n,
            "p50_s": round(float(np.percentile(arr, 50)), 3), "p99_s": round(float(np.percentile(arr, 99)), 3),
            "max_s": round(float(arr.max()), 3), "load": load}


# ---------- (3) scale: CPU per record with 1, 2, 4 workers
def scale(kafka: KafkaSettings, base: Plant, registry: Path, work: Path, transport: str, step: int) -> dict:
    out: dict[str, Any] = {"transport": transport}
    for workers in (1, 2, 4):
        plant = plant_of(base, SCALE_COPIES, f"s{workers}{transport[:2]}")
        items = list(samples(plant, SCALE_PER_MACHINE))
        expected = _expected(plant, SCALE_PER_MACHINE, step)
        group = f"bench-scale-{workers}-{transport}"
        kx.start_group_at_end(kafka, group)
        procs, dbs = [], []
        for i in range(workers):
            p, db = _worker(kafka, plant, work, registry, group, transport, f"{group}-{i}")
            procs.append(p)
            dbs.append(db)
        try:
            _idle(procs)
            load = _load()
            cpu0 = {p.pid: _cpu_s(p.pid) for p in procs}
            began = time.monotonic()
            kx.produce(kafka.model_copy(update={"transport": "confluent"}), items)
            deadline = time.monotonic() + 600
            while sum(_count(d) for d in dbs) < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            wall = time.monotonic() - began
            cpu = {p.pid: _cpu_s(p.pid) - cpu0[p.pid] for p in procs}
        finally:
            kx.stop(procs)
        stored = sum(_count(d) for d in dbs)
        total = sum(cpu.values())
        out[f"workers_{workers}"] = {
            "records": len(items), "scores_stored": stored, "scores_expected": expected, "wall_s": round(wall, 1),
            "cpu_s": round(total, 2), "cpu_s_per_million_records": round(total / len(items) * 1e6, 1),
            "cpu_s_per_worker": [round(c, 2) for c in cpu.values()], "load": load}
    base_cost = out["workers_1"]["cpu_s_per_million_records"]
    out["cpu_per_record_vs_1_worker"] = {f"workers_{w}": round(out[f"workers_{w}"]["cpu_s_per_million_records"]
                                                               / base_cost, 3) for w in (2, 4)}
    return out


# ---------- (4) the virtual plant
def _produce_plant(kafka: KafkaSettings, plant: Plant, hz: float, seconds: float, stats: dict) -> None:
    """Every machine sends a sample every 1/hz s (wall-clock times), for ``seconds``."""
    machines = plant.machines()
    lows = [np.array([s.normal_low for s in m.sensors]) for m in machines]
    spans = [np.array([s.normal_high - s.normal_low for s in m.sensors]) for m in machines]
    names = [[s.name for s in m.sensors] for m in machines]
    rng = np.random.default_rng(7)
    began, seq, sent, behind = time.monotonic(), 0, 0, 0.0
    with Producer(kafka) as producer:
        while (elapsed := time.monotonic() - began) < seconds:
            due = int(elapsed * hz) + 1
            while seq < due:
                ts = datetime.now(UTC)
                level = rng.uniform(0.35, 0.55, size=(len(machines), max(len(n) for n in names)))
                for i, m in enumerate(machines):
                    vals = lows[i] + spans[i] * level[i, :len(names[i])]
                    producer.send(TELEMETRY, TelemetrySample(machine_id=m.id, ts=ts, seq=seq,
                                                             signals=dict(zip(names[i], vals.tolist(), strict=False))))
                sent += len(machines)
                seq += 1
            behind = max(behind, (time.monotonic() - began) * hz - seq)
            time.sleep(0.002)
    stats.update(sent=sent, seconds=round(time.monotonic() - began, 1), producer_max_behind_ticks=round(behind, 1))


def plant_run(kafka: KafkaSettings, base: Plant, registry: Path, work: Path, results: Path, workers: int,
              transport: str) -> dict:
    plant = plant_of(base, PLANT_MACHINES // len(base.machines()), "vp")  # sample period: PLANT_HZ below
    group = f"bench-plant-{workers}"
    kx.start_group_at_end(kafka, group)
    procs, dbs = [], []
    for i in range(workers):
        p, db = _worker(kafka, plant, work, registry, group, transport, f"{group}-{i}")
        procs.append(p)
        dbs.append(db)
    probe = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka.client_kwargs())
    tps = kx.partitions(kafka)
    series: list[tuple[float, int]] = []
    stats: dict = {}
    try:
        _idle(procs)
        load = _load()
        cpu0 = {p.pid: _cpu_s(p.pid) for p in procs}
        producer = threading.Thread(target=_produce_plant, args=(
            kafka.model_copy(update={"transport": "confluent"}), plant, PLANT_HZ, PLANT_SECONDS, stats))
        began = time.monotonic()
        producer.start()
        while producer.is_alive() or (series[-1][1] > 0 and time.monotonic() - began < PLANT_SECONDS + 120):
            series.append((round(time.monotonic() - began, 1), kx.group_lag(probe, group, tps)))
            time.sleep(1.0)
        producer.join()
        cpu = {p.pid: _cpu_s(p.pid) - cpu0[p.pid] for p in procs}
        load_end = _load()
    finally:
        kx.stop(procs)
        probe.close()
    lat = [x for d in dbs for x in _stored(d)[1]]
    scores = sum(_count(d) for d in dbs)
    arr = np.array(lat) if lat else np.array([np.nan])
    lags = [lag for _, lag in series]
    during = [lag for t, lag in series if t <= PLANT_SECONDS]
    half = len(during) // 2
    res = {"machines": len(plant.machines()), "hz": PLANT_HZ, "target_records_per_s": round(
        len(plant.machines()) * PLANT_HZ), "workers": workers, "transport": transport, **stats,
        "achieved_produce_records_per_s": round(stats["sent"] / stats["seconds"]),
        "scores_stored": scores, "worker_cpu_s": round(sum(cpu.values()), 1),
        "worker_cpu_cores_busy": round(sum(cpu.values()) / series[-1][0], 2),
        "lag_max": max(lags), "lag_mean_during_stream": round(float(np.mean(during)), 1),
        "lag_trend_second_half_minus_first": round(float(np.mean(during[half:]) - np.mean(during[:half])), 1),
        "drained_after_s": round(series[-1][0] - PLANT_SECONDS, 1) if lags[-1] == 0 else None,
        "latency_p50_s": round(float(np.percentile(arr, 50)), 3),
        "latency_p99_s": round(float(np.percentile(arr, 99)), 3),
        "load": load, "load_end": load_end, "series": series, "plot": "bench/results/streaming_plant.png"}
    _plot(series, res, results / "streaming_plant.png")
    return res


def _plot(series: list[tuple[float, int]], res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot([t for t, _ in series], [lag for _, lag in series], color="#1f4e79")
    ax.axvline(PLANT_SECONDS, color="#999", ls="--", lw=1)
    ax.set_xlabel("seconds since the plant started (dashed: plant stops)")
    ax.set_ylabel("consumer lag (records)")
    ax.set_title(f"Virtual plant {res['machines']} machines x {res['hz']:.0f} Hz -> {res['workers']} scoring "
                 f"workers ({res['transport']}), load {res['load'][0]}", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _save(path: Path, res: dict) -> None:
    path.write_text(json.dumps(res, indent=2, default=str) + "\n")


def run(results_dir: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lw-bench-streaming-"))
    out = results_dir / "streaming.json"
    registry = ROOT / "var" / "bench" / "registry"
    registry.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LINEWATCH_REGISTRY_DIR": str(registry), "LINEWATCH_DATA_DIR": str(registry.parent)}
    trained_s = ensure_champion(registry, env)
    info = broker.start(work / "kafka", timeout_s=180)
    try:
        kafka = KafkaSettings(bootstrap_servers=info.bootstrap, topic_partitions=PARTITIONS)
        ensure_topics(kafka)
        base = load_plant(LineWatchSettings().plant_file)
        reg = Registry(registry)
        champions = {k: reg.champion_version(k) for k in sorted({m.kind for m in base.machines()})}
        step = reg.champion(next(k for k, v in champions.items() if v)).feature_spec.step
        res: dict[str, Any] = {"cpu_cores": os.cpu_count(), "partitions": PARTITIONS, "champions": champions,
                               "model": "linewatch train --quick on 20 days of simulated history (seed 1007)",
                               "score_every": step, "train_seconds": round(trained_s, 1), "load_at_start": _load()}
        only = [p for p in os.environ.get("LINEWATCH_BENCH_PARTS", "").split(",") if p]
        if only and out.exists():
            res = json.loads(out.read_text()) | res
        workers = int(os.environ.get("LINEWATCH_BENCH_PLANT_WORKERS", "2"))
        phases = [
            ("throughput", lambda: throughput(kafka, base, registry, work, step)),
            ("latency", lambda: {t: latency(kafka, base, registry, work,
                                            res["throughput"][f"worker_{t}"]["records_per_s"] / 2, t, step)
                                 for t in ("kafka-python", "confluent")}),
            ("scale", lambda: scale(kafka, base, registry, work, "confluent", step)),
            ("plant", lambda: plant_run(kafka, base, registry, work, results_dir, workers, "confluent")),
        ]
        for key, phase in phases:
            if only and key not in only:
                continue
            console.print(f"[bold]{key}[/bold] (load {_load()})")
            res[key] = phase()
            _save(out, res)
            console.print({k: v for k, v in res[key].items() if k != "series"})
    finally:
        broker.stop(work / "kafka")
        shutil.rmtree(work, ignore_errors=True)
    return {k: v for k, v in res.items() if k != "plant"} | {
        "plant": {k: v for k, v in res.get("plant", {}).items() if k != "series"}}
