"""Soak: the demo line at 3600x for an hour with the API under read load: ``python -m bench soak``.

Real broker, physics simulator at 3600x, quick-trained champion (cached in ``var/bench/registry``,
or ``LINEWATCH_BENCH_REGISTRY``), scoring, persist and API (``linewatch serve``) as separate
processes on one SQLite store, as ``make demo`` runs them. A reader thread sends a fixed
schedule of GETs (``/plant``, ``/alerts?limit=100``, ``/work-orders``, one machine's detail and
score history) and keeps one SSE stream open, reconnecting every minute.

Every minute it records the resident set size (RSS, from ``/proc``, process and its children)
of every process, the scoring group's lag on the telemetry topic, the dead-letter count, the
API's request and error counts and the error lines in every worker's log. Writes
``bench/results/soak.json`` and ``bench/results/soak.png``.

Acceptance (``passed`` in the result): RSS growth < 10 % over the last 30 minutes for every
process (median of the last 3 samples vs the median of the 3 samples around the half-way
mark) and 0 errors. ``LINEWATCH_BENCH_SOAK_SECONDS`` sets the length (default 3600 s).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from bench.bench_demo_line import ensure_champion, lag, linewatch, stop_line
from contracts.settings import KafkaSettings
from contracts.topics import DEADLETTER, TELEMETRY
from runtime import broker
from runtime.admin import ensure_topics

ROOT = Path(__file__).resolve().parent.parent
READ_RATE_PER_S = 20
PATHS = ("/api/v1/plant", "/api/v1/alerts?limit=100", "/api/v1/work-orders?limit=50",
         "/api/v1/lines/line-1/machines/cnc-01", "/api/v1/lines/line-1/machines/cnc-01/scores?max_points=200")
ERROR_MARKERS = ("Traceback", " ERROR ", "ERROR:", "CRITICAL")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            out += [int(c) for c in text]
    except OSError:
        return out
    return out + [g for c in out for g in _children(c)]


def rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants, MiB (0 when gone)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reader:
    """Open-loop GETs at a fixed schedule plus one SSE stream; counts requests and errors."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.headers = base, {"Authorization": f"Bearer {token}"}
        self.requests = self.errors = self.sse_events = self.sse_errors = 0
        self.latencies: list[float] = []
        self.error_samples: list[str] = []
        self.stop = threading.Event()

    def _get(self, client: httpx.Client, path: str) -> None:
        t = time.perf_counter()
        try:
            r = client.get(path)
            ok = r.status_code == 200
            if not ok:
                self.error_samples.append(f"{path}: {r.status_code} {r.text[:200]}")
        except httpx.HTTPError as exc:
            ok = False
            self.error_samples.append(f"{path}: {type(exc).__name__}: {exc}")
        self.latencies.append((time.perf_counter() - t) * 1000)
        self.requests += 1
        self.errors += not ok

    def run_gets(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
            began, i = time.perf_counter(), 0
            while not self.stop.is_set():
                delay = began + i / READ_RATE_PER_S - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                self._get(client, PATHS[i % len(PATHS)])
                i += 1

    def run_stream(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=90) as client:
            while not self.stop.is_set():
                try:
                    with client.stream("GET", "/api/v1/stream?max_seconds=60") as r:
                        if r.status_code != 200:
                            self.sse_errors += 1
                            self.error_samples.append(f"stream: {r.status_code}")
                            time.sleep(5)
                            continue
                        for line in r.iter_lines():
                            self.sse_events += line.startswith("event:")
                            if self.stop.is_set():
                                break
                except httpx.HTTPError as exc:
                    self.sse_errors += 1
                    self.error_samples.append(f"stream: {type(exc).__name__}: {exc}")
                    time.sleep(5)


def _log_errors(logs: Path) -> dict[str, int]:
    out = {}
    for f in sorted(logs.glob("*.log")):
        text = f.read_text(errors="replace")
        out[f.stem] = sum(any(m in line for m in ERROR_MARKERS) for line in text.splitlines())
    return out


def _count(consumer: KafkaConsumer, topic: str) -> int:
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    return sum(consumer.end_offsets(parts).values()) if parts else 0


def growth(values: list[float]) -> float | None:
    """Relative RSS growth over the second half: median of the last 3 vs the 3 around half-way."""
    if len(values) < 6:
        return None
    mid = len(values) // 2
    base = statistics.median(values[mid - 1:mid + 2])
    end = statistics.median(values[-3:])
    return round((end - base) / base, 4) if base else None


def plot(series: list[dict], names: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t_min"] for s in series]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    for name in names:
        axes[0].plot(t, [s["rss_mib"][name] for s in series], label=name)
    axes[0].set_ylabel("RSS (MiB)")
    axes[0].legend(fontsize=8, ncol=len(names))
    axes[0].axvline(t[len(t) // 2] if t else 0, color="grey", ls=":", lw=1)
    axes[1].plot(t, [s["lag"] for s in series], label="scoring lag (records)")
    axes[1].set_ylabel("records behind")
    axes[2].plot(t, [s["api_errors"] + s["sse_errors"] for s in series], label="API + SSE errors (cumulative)")
    axes[2].plot(t, [sum(s["log_errors"].values()) + s["deadletter"] for s in series],
                 label="worker log errors + dead letters (cumulative)")
    axes[2].set_ylabel("errors")
    axes[2].set_xlabel("wall minutes")
    axes[2].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def run(results_dir: Path) -> dict:
    seconds = float(os.environ.get("LINEWATCH_BENCH_SOAK_SECONDS", "3600"))
    sample_s = float(os.environ.get("LINEWATCH_BENCH_SOAK_SAMPLE_S", "60"))
    work = Path(tempfile.mkdtemp(prefix="lw-bench-soak-"))
    registry = Path(os.environ.get("LINEWATCH_BENCH_REGISTRY") or ROOT / "var" / "bench" / "registry")
    registry.parent.mkdir(parents=True, exist_ok=True)
    info = broker.start(work / "kafka", timeout_s=180)
    procs: dict[str, subprocess.Popen] = {}
    reader: Reader | None = None
    try:
        kafka = KafkaSettings(bootstrap_servers=info.bootstrap)
        ensure_topics(kafka)
        port = _free_port()
        store_url = f"sqlite:///{work / 'store.db'}"
        env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": info.bootstrap, "LINEWATCH_STORE__URL": store_url,
               "LINEWATCH_REGISTRY_DIR": str(registry), "LINEWATCH_DATA_DIR": str(registry.parent),
               "LINEWATCH_PORT": str(port), "LINEWATCH_CHECK_BROKER": "false", "PYTHONUNBUFFERED": "1"}
        trained_s = ensure_champion(registry, env)
        from contracts.settings import StoreSettings
        from store import Store
        from store.credentials import Role
        from store.repos.auth import create_user

        store = Store.open(StoreSettings(url=store_url))
        with store.engine.begin() as conn:
            create_user(conn, "soak", "amber-lathe-crane-42", Role.VIEWER)
        store.close()
        logs = work / "logs"
        logs.mkdir()
        sim_hours = seconds  # 3600x: one wall second is one simulated hour
        for name, argv in (("score", linewatch("score", "--metrics-port", "0")),
                           ("persist", linewatch("persist", "--metrics-port", "0")),
                           ("serve", linewatch("serve", "--no-background")),
                           ("simulate", linewatch("simulate", "--speed", "3600", "--seed", "7", "--metrics-port", "0",
                                                  "--duration-hours", str(sim_hours)))):
            procs[name] = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=open(logs / f"{name}.log", "wb"),
                                           stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "soak", "password": "amber-lathe-crane-42"},
                           timeout=10).json()["access_token"]
        reader = Reader(base, token)
        threads = [threading.Thread(target=reader.run_gets, daemon=True),
                   threading.Thread(target=reader.run_stream, daemon=True)]
        for th in threads:
            th.start()
        admin = KafkaAdminClient(**kafka.client_kwargs())
        consumer = KafkaConsumer(**kafka.client_kwargs())
        series: list[dict] = []
        began = time.monotonic()
        print(f"soak: demo line at 3600x for {seconds:.0f} s with {READ_RATE_PER_S} GET/s + 1 SSE stream; "
              f"a sample every {sample_s:.0f} s (logs {logs})", flush=True)
        died: list[str] = []
        while time.monotonic() - began < seconds:
            time.sleep(max(0.0, began + (len(series) + 1) * sample_s - time.monotonic()))
            try:
                behind, produced = lag(admin, consumer, TELEMETRY.name)
                dead = _count(consumer, DEADLETTER.name)
            except KafkaError:
                behind, produced, dead = -1, -1, -1
            lat = reader.latencies[-READ_RATE_PER_S * int(sample_s):]
            sample = {"t_min": round((time.monotonic() - began) / 60, 2),
                      "rss_mib": {n: rss_mib(p.pid) for n, p in procs.items()} | {"kafka": rss_mib(info.pid)},
                      "lag": behind, "telemetry_total": produced, "deadletter": dead,
                      "api_requests": reader.requests, "api_errors": reader.errors,
                      "api_p99_ms": round(statistics.quantiles(lat, n=100)[98], 1) if len(lat) > 10 else None,
                      "sse_events": reader.sse_events, "sse_errors": reader.sse_errors,
                      "log_errors": _log_errors(logs), "load_average": os.getloadavg()}
            series.append(sample)
            print(f"soak {sample['t_min']:5.1f} min  rss {sample['rss_mib']}  lag {behind}  "
                  f"api {reader.requests} req / {reader.errors} err  sse {reader.sse_events} ev  "
                  f"dlq {dead}  log errors {sum(sample['log_errors'].values())}  load {os.getloadavg()[0]:.2f}",
                  flush=True)
            died = [n for n, p in procs.items() if n != "simulate" and p.poll() is not None]
            if died:
                print(f"soak: {died} exited early: see {logs}", flush=True)
                break
        reader.stop.set()
        for th in threads:
            th.join(timeout=100)
        admin.close()
        consumer.close()
        names = [*procs, "kafka"]
        growth_by = {n: growth([s["rss_mib"][n] for s in series]) for n in names if n != "simulate"}
        # the simulator stops by itself at the end of its simulated span; its RSS counts while it runs
        growth_by["simulate"] = growth([s["rss_mib"]["simulate"] for s in series if s["rss_mib"]["simulate"] > 0])
        last = series[-1]
        errors = {"api": last["api_errors"], "sse": last["sse_errors"], "deadletter": max(0, last["deadletter"]),
                  "log_lines": last["log_errors"], "processes_died": died}
        error_total = (errors["api"] + errors["sse"] + errors["deadletter"] + sum(last["log_errors"].values())
                       + len(died))
        passed = bool(error_total == 0 and all(g is not None and g < 0.10 for g in growth_by.values()))
        res = {
            "what": "demo line (physics simulator 3600x, quick champion) -> Kafka -> score + persist -> SQLite <- "
                    f"linewatch serve under {READ_RATE_PER_S} GET/s + 1 SSE stream; separate processes, 2 shared cores",
            "seconds": seconds, "sample_s": sample_s, "train_seconds": round(trained_s, 1),
            "rss_growth_second_half": growth_by, "errors": errors, "error_total": error_total,
            "error_samples": reader.error_samples[:20], "passed": passed,
            "acceptance": "RSS growth < 10 % over the last half (30 of 60 min) for every process, 0 errors",
            "api_requests": last["api_requests"], "sse_events": last["sse_events"],
            "telemetry_records": last["telemetry_total"], "lag_max_records": max(s["lag"] for s in series),
            "uptime_at_end": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
            "ts": datetime.now(UTC).isoformat(),
            "series": series,
        }
        (results_dir / "soak.json").write_text(json.dumps(res, indent=2) + "\n")
        worst = max((g for g in growth_by.values() if g is not None), default=float("nan"))
        plot(series, names, results_dir / "soak.png",
             f"Soak {seconds / 60:.0f} min: demo line 3600x + API read load ({READ_RATE_PER_S} GET/s + SSE)\n"
             f"{'passed' if passed else 'FAILED'}: worst RSS growth over the second half {worst:+.1%}, "
             f"errors {error_total}")
        summary = {k: v for k, v in res.items() if k != "series"}
        print(json.dumps(summary, indent=2), flush=True)
        keep = ROOT / "var" / "soak-logs"
        keep.mkdir(parents=True, exist_ok=True)
        for f in sorted(logs.glob("*.log")):
            shutil.copy(f, keep / f.name)
        return summary
    finally:
        if reader is not None:
            reader.stop.set()
        stop_line(procs.values(), work)
