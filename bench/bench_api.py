"""API latency under open-loop load: ``python -m bench api``.

``linewatch serve --workers 2`` (separate processes, access log off, no background tasks) on a
PostgreSQL store (``scripts/postgres.sh``, a private cluster) and on the embedded SQLite store,
each seeded with the same realistic data: the demo plant's 10 machines x 1 day of per-minute
scores (14,400) and 2,000 alerts. vegeta (Go, built by ``scripts/setup.sh`` into
``.tools/bin``) sends requests on a fixed arrival schedule (open loop: a slow answer does not
slow the schedule, so queueing shows in the latency instead of lowering the rate), one path at a
time: ``GET /plant`` (health tree) and ``GET /alerts?limit=100`` (alert list), with a viewer's
login token, as the operator UI sends them.

Per store and path it records the requested and achieved rate, latency percentiles, the
success ratio and status codes, and the server's CPU time per request (all worker processes,
from ``/proc``). The generator runs on the same 2 cores as the server, as on a small edge box.

Acceptance (``passed``): on PostgreSQL, both paths at an achieved >= 99 % of 500 req/s, p99 <=
20 ms, every answer 200. ``LINEWATCH_BENCH_API_RATE`` and ``LINEWATCH_BENCH_API_SECONDS`` change
the rate (default 500/s) and the length of each run (default 30 s). Writes
``bench/results/api.json`` and ``bench/results/api.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.bench_demo_line import wait_ready
from contracts import AlertAction, AlertEvent, HealthScore, StoreSettings
from contracts.plant import load_plant
from services.api import ApiSettings
from store import Store
from store.credentials import Role
from store.repos.auth import create_user

ROOT = Path(__file__).resolve().parent.parent
VEGETA = ROOT / ".tools" / "bin" / "vegeta"
RATE_PER_S = int(os.environ.get("LINEWATCH_BENCH_API_RATE", "500"))
SECONDS = int(os.environ.get("LINEWATCH_BENCH_API_SECONDS", "30"))
WORKERS = 2
P99_TARGET_MS = 20.0
PATHS = {"plant_health": "/api/v1/plant", "alert_list": "/api/v1/alerts?limit=100"}
USER, PASSWORD = "bench", "correct-horse-battery-staple"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def seed(store: Store, plant_file: Path) -> None:
    """The demo plant's machines with one day of per-minute scores and 2,000 alerts."""
    machines = [m.id for m in load_plant(plant_file).machines()]
    t0 = datetime.now(UTC) - timedelta(days=1)
    scores = [HealthScore(score_id=f"{m}|{i}", machine_id=m, ts=t0 + timedelta(minutes=i), model_version="m-1",
                          health=90 - i % 40, horizon_hours=24, failure_probability={"tool_wear": (i % 40) / 100})
              for m in machines for i in range(1440)]
    store.upsert_scores(scores)
    alerts = [AlertEvent(alert_id=f"{machines[i % len(machines)]}|tool_wear|{i}",
                         machine_id=machines[i % len(machines)],
                         ts=t0 + timedelta(seconds=40 * i), action=AlertAction.RAISED, mode="tool_wear",
                         priority=("low", "medium", "high")[i % 3], probability=0.7, model_version="m-1")
              for i in range(2000)]
    store.upsert_alert_events(alerts)
    with store.engine.begin() as conn:
        create_user(conn, USER, PASSWORD, Role.VIEWER)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's supervisor and its worker processes)."""
    out = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                out += _tree(int(child))
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants, from ``/proc/<pid>/stat``."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def attack(url: str, token: str, rate: int, seconds: int) -> dict:
    """One vegeta run at a fixed arrival rate; its JSON report."""
    target = f"GET {url}\nAuthorization: Bearer {token}\n"
    with tempfile.NamedTemporaryFile("w", suffix=".targets", delete=False) as f:
        f.write(target)
    try:
        attack_cmd = [str(VEGETA), "attack", f"-targets={f.name}", f"-rate={rate}/1s", f"-duration={seconds}s",
                      "-timeout=10s"]
        with subprocess.Popen(attack_cmd, stdout=subprocess.PIPE) as attacker:
            report = subprocess.run([str(VEGETA), "report", "-type=json"], stdin=attacker.stdout,
                                    capture_output=True, text=True, check=True)
        if attacker.returncode:
            raise RuntimeError(f"vegeta attack exited {attacker.returncode}")
        return json.loads(report.stdout)
    finally:
        os.unlink(f.name)


def _error_kind(message: str) -> str:
    """vegeta's error text without the per-connection addresses (one line per kind)."""
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:*", message)


def summarise(report: dict, rate: int, cpu_s: float) -> dict:
    lat = report["latencies"]
    ms = 1e-6  # vegeta reports nanoseconds
    return {"requested_rate_per_s": rate, "achieved_rate_per_s": round(report["rate"], 1),
            "throughput_ok_per_s": round(report["throughput"], 1), "requests": report["requests"],
            "success": report["success"], "status_codes": report["status_codes"],
            "error_kinds": sorted({_error_kind(e) for e in report.get("errors") or []})[:5],
            "p50_ms": round(lat["50th"] * ms, 2), "p90_ms": round(lat["90th"] * ms, 2),
            "p99_ms": round(lat["99th"] * ms, 2), "max_ms": round(lat["max"] * ms, 2),
            "mean_ms": round(lat["mean"] * ms, 2),
            "server_cpu_ms_per_request": round(1000 * cpu_s / max(report["requests"], 1), 3)}


def measure_store(name: str, url: str, work: Path) -> dict:
    """Seed the store at ``url``, serve it with ``--workers 2`` and attack each path."""
    settings = ApiSettings(store=StoreSettings(url=url))
    store = Store.open(settings.store)
    try:
        seed(store, settings.plant_file)
        if store.engine.dialect.name == "postgresql":  # settle the fresh tables as a running store is:
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")  # planner statistics, and no autovacuum mid-run
    finally:
        store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LINEWATCH_STORE__URL": url, "LINEWATCH_CHECK_BROKER": "false"}
    log = (work / f"serve-{name}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "--workers", str(WORKERS),
                             "--port", str(port), "--no-background", "--no-access-log"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(base, proc)
        token = httpx.post(f"{base}/api/v1/auth/login", json={"username": USER, "password": PASSWORD},
                           timeout=10).json()["access_token"]
        out: dict = {}
        for key, path in PATHS.items():
            attack(base + path, token, min(100, RATE_PER_S), 5)  # warm-up: connections, caches, JIT-free imports
            load_before = os.getloadavg()
            cpu0 = cpu_seconds(proc.pid)
            report = attack(base + path, token, RATE_PER_S, SECONDS)
            cpu_s = cpu_seconds(proc.pid) - cpu0
            out[key] = summarise(report, RATE_PER_S, cpu_s) | {"load_before": [round(x, 2) for x in load_before]}
            print(f"  {name} {path}: {json.dumps(out[key])}", flush=True)
        return out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels, p50, p90, p99 = [], [], [], []
    for store_name in ("postgresql", "sqlite"):
        for key in PATHS:
            r = result["stores"][store_name][key]
            labels.append(f"{store_name}\n{PATHS[key].removeprefix('/api/v1')}")
            p50.append(r["p50_ms"])
            p90.append(r["p90_ms"])
            p99.append(r["p99_ms"])
    x = range(len(labels))
    width = 0.27
    ax.bar([i - width for i in x], p50, width, label="p50")
    ax.bar(list(x), p90, width, label="p90")
    ax.bar([i + width for i in x], p99, width, label="p99")
    ax.axhline(P99_TARGET_MS, color="k", linestyle="--", linewidth=1, label=f"p99 target {P99_TARGET_MS:.0f} ms")
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"linewatch serve --workers {WORKERS}, open loop at {RATE_PER_S} req/s ({SECONDS} s per bar)",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(results_dir: Path) -> dict:
    if not VEGETA.exists():
        raise SystemExit(f"bench api: {VEGETA} is missing; run scripts/setup.sh (it builds vegeta with go install)")
    work = Path(tempfile.mkdtemp(prefix="lw-bench-api-"))
    pg_dir = work / "pg"
    script = ROOT / "scripts" / "postgres.sh"
    stores: dict[str, dict] = {}
    try:
        pg_url = subprocess.run([str(script), "start", str(pg_dir)], check=True, capture_output=True,
                                text=True).stdout.strip().splitlines()[-1]
        stores["postgresql"] = measure_store("postgresql", pg_url, work)
    finally:
        subprocess.run([str(script), "destroy", str(pg_dir)], check=False, capture_output=True)
    stores["sqlite"] = measure_store("sqlite", f"sqlite:///{work}/bench.db", work)
    pg = stores["postgresql"]
    checks = {key: {"achieved_rate_ok": pg[key]["achieved_rate_per_s"] >= 0.99 * RATE_PER_S,
                    "p99_ok": pg[key]["p99_ms"] <= P99_TARGET_MS, "all_200": pg[key]["success"] == 1.0}
              for key in PATHS}
    result = {"what": f"linewatch serve --workers {WORKERS} (access log off) under an open-loop vegeta load, "
                      "one path at a time, generator and server on the same 2 cores",
              "data": "demo plant, 10 machines x 1440 per-minute scores, 2000 alerts; viewer login token",
              "rate_per_s": RATE_PER_S, "seconds_per_path": SECONDS, "workers": WORKERS, "cpu_cores": os.cpu_count(),
              "stores": stores, "checks_postgresql": checks,
              "passed": all(all(c.values()) for c in checks.values()),
              "acceptance": f"PostgreSQL: achieved >= 99 % of {RATE_PER_S} req/s, p99 <= {P99_TARGET_MS:.0f} ms, "
                            "every answer 200, for GET /plant and GET /alerts?limit=100",
              "load_after": [round(x, 2) for x in os.getloadavg()], "ts": datetime.now(UTC).isoformat()}
    (results_dir / "api.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, results_dir / "api.png")
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({k: v for k, v in result.items() if k != "stores"}, indent=2))
    return result
