"""The demo line as ``make demo`` runs it, measured: ``python -m bench demo_line``.

Physics simulator at 3600x (``linewatch simulate``), a champion trained by ``linewatch train
--quick`` on simulated history from another seed (cached in ``var/bench/registry``), and
the scoring and persist workers as separate processes on one real broker. Every 2 s it
reads the scoring group's lag on ``linewatch.telemetry.v1`` (log end minus committed
offsets). Writes ``bench/results/demo_line.json`` and ``bench/results/demo_line_lag.png``.
``LINEWATCH_BENCH_DEMO_SECONDS`` sets the streaming time (default 240 s = 240 simulated hours).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from rich.console import Console

from contracts.settings import KafkaSettings
from contracts.topics import SCORES, TELEMETRY
from runtime import broker
from runtime.admin import ensure_topics

ROOT = Path(__file__).resolve().parent.parent
console = Console()
GROUP = "linewatch-scoring"


def linewatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def ensure_champion(registry: Path, env: dict[str, str]) -> float:
    """Train the quick champion once (as the demo does); returns seconds spent (0 if cached)."""
    if (registry / "index.json").exists():
        return 0.0
    began = time.monotonic()
    history = registry.parent / "history"
    for argv in (linewatch("simulate", "history", "--days", "20", "--out", str(history), "--seed", "1007"),
                 linewatch("train", "--quick", "--data", str(history))):
        subprocess.run(argv, env=env, check=True, cwd=ROOT)
    return time.monotonic() - began


def lag(admin: KafkaAdminClient, consumer: KafkaConsumer, topic: str) -> tuple[int, int]:
    """(records not yet committed by the scoring group, log-end total)."""
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    ends = consumer.end_offsets(parts)
    committed = admin.list_group_offsets({GROUP: None}).get(GROUP, {})
    behind = sum(ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                 for tp in parts)
    return behind, sum(ends.values())


def stop_line(procs: Iterable[subprocess.Popen], work: Path) -> None:
    """End a bench line: SIGTERM to each child's process group (SIGKILL after 30 s), then its
    broker, then its work folder."""
    procs = list(procs)
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, 15)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
    broker.stop(work / "kafka")
    shutil.rmtree(work, ignore_errors=True)


def wait_ready(base: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    """Wait until ``linewatch serve`` (``proc``) answers ``{base}/healthz``; a clear error if it
    exits first or does not answer within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"linewatch serve exited {proc.returncode} before answering")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"linewatch serve did not answer {base}/healthz within {timeout_s:.0f} s")


def plot(series: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot([s["t_s"] for s in series], [s["lag"] for s in series], label="scoring lag (records)")
    ax2 = ax.twinx()
    ax2.plot([s["t_s"] for s in series], [s["produced"] for s in series], color="grey", ls="--",
             label="telemetry produced (total)")
    ax.set_xlabel("wall seconds")
    ax.set_ylabel("records behind")
    ax2.set_ylabel("records produced")
    ax.set_title("Demo plant at 3600x: physics simulator -> Kafka -> scoring worker (trained champion)",
                 fontsize=10)
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.28)
    fig.legend(loc="lower center", ncol=2, frameon=False)
    fig.savefig(path, dpi=110)


def run(results_dir: Path) -> dict:
    seconds = float(os.environ.get("LINEWATCH_BENCH_DEMO_SECONDS", "240"))
    work = Path(tempfile.mkdtemp(prefix="lw-bench-demo-"))
    registry = ROOT / "var" / "bench" / "registry"
    registry.parent.mkdir(parents=True, exist_ok=True)
    info = broker.start(work / "kafka", timeout_s=180)
    procs: list[subprocess.Popen] = []
    try:
        kafka = KafkaSettings(bootstrap_servers=info.bootstrap)
        ensure_topics(kafka)
        env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": info.bootstrap,
               "LINEWATCH_STORE__URL": f"sqlite:///{work / 'store.db'}", "LINEWATCH_REGISTRY_DIR": str(registry),
               "LINEWATCH_DATA_DIR": str(registry.parent), "PYTHONUNBUFFERED": "1"}
        trained_s = ensure_champion(registry, env)
        from contracts.settings import StoreSettings
        from store import Store

        Store.open(StoreSettings(url=env["LINEWATCH_STORE__URL"])).close()
        logs = work / "logs"
        logs.mkdir()
        for name, argv in (("score", linewatch("score", "--metrics-port", "0")),
                           ("persist", linewatch("persist", "--metrics-port", "0")),
                           ("simulate", linewatch("simulate", "--speed", "3600", "--seed", "7", "--metrics-port", "0",
                                                  "--duration-hours", str(seconds)))):
            procs.append(subprocess.Popen(argv, env=env, cwd=ROOT, stdout=open(logs / f"{name}.log", "wb"),
                                          stderr=subprocess.STDOUT, start_new_session=True))
        admin = KafkaAdminClient(**kafka.client_kwargs())
        consumer = KafkaConsumer(**kafka.client_kwargs())
        series: list[dict] = []
        began = time.monotonic()
        console.print(f"streaming the demo plant at 3600x for {seconds:.0f} s; lag every 2 s")
        while True:
            time.sleep(2)
            try:
                behind, produced = lag(admin, consumer, TELEMETRY.name)
            except KafkaError:  # the group's coordinator is not up yet: no sample this round
                continue
            series.append({"t_s": round(time.monotonic() - began, 1), "lag": behind, "produced": produced})
            sim_done = procs[2].poll() is not None
            if sim_done and behind == 0 or time.monotonic() - began > seconds + 180:
                break
            if any(p.poll() not in (None, 0) for p in procs[:2]):
                raise RuntimeError(f"a worker died: see {logs}")
        scores = sum(consumer.end_offsets([TopicPartition(SCORES.name, p) for p in
                                           consumer.partitions_for_topic(SCORES.name)]).values())
        admin.close()
        consumer.close()
        streaming = [s for s in series if s["t_s"] <= seconds]
        produced = series[-1]["produced"]
        res = {
            "what": "physics simulator at 3600x, quick-trained champion, scoring + persist processes, 2 cores",
            "stream_seconds": seconds, "train_seconds": round(trained_s, 1),
            "telemetry_records": produced, "scores_produced": scores,
            "ingest_records_per_s": round(produced / max(1.0, streaming[-1]["t_s"] if streaming else 1.0), 1),
            "lag_max_records": max(s["lag"] for s in series),
            "lag_mean_records": round(sum(s["lag"] for s in streaming) / max(1, len(streaming)), 1),
            "lag_at_stream_end_records": streaming[-1]["lag"] if streaming else None,
            "drained_after_stream_s": round(series[-1]["t_s"] - seconds, 1),
            "load_average_at_end": os.getloadavg(),
            "series": series,
        }
        (results_dir / "demo_line.json").write_text(json.dumps(res, indent=2) + "\n")
        plot(series, results_dir / "demo_line_lag.png")
        console.print({k: v for k, v in res.items() if k != "series"})
        return {k: v for k, v in res.items() if k != "series"}
    finally:
        stop_line(procs, work)
