"""The demo line maintained by ``linewatch maintain`` vs the same line unmaintained:
``python -m bench demo_maintained``.

Issue 13's acceptance item: after 10 simulated days of a maintained line, at most 30 % of
machine-hours in the *act* health band (< 50) and at most 6 alerts per operator-hour (the
API's alert-system KPIs; one operator per line, as the pilot counts them).

Each arm runs the demo pieces as ``make demo`` does (``bench_demo_line``): one real broker, the
physics simulator at 3600x (seed 7), the quick champion cached in ``var/bench/registry``,
``linewatch score`` and ``linewatch persist`` as processes on one SQLite store; the maintained
arm adds ``linewatch maintain --policy predictive`` (the pilot's predictive arm, default
settings), the baseline arm has none (nobody acts; tools and bearings run to failure). After the
simulator stops and the scorer has drained, ``linewatch serve`` is started on that store and
``GET /alert-system/kpis?line=…`` is read per line, for the whole run and for its second half.
Machine-hours per band come from the stored scores (each score holds until the machine's next
one, at most 1 h). Writes ``bench/results/demo_maintained.json`` and ``demo_maintained.png``.
``LINEWATCH_BENCH_MAINTAINED_DAYS`` sets the simulated days (default 10).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from bench.bench_demo_line import ensure_champion, lag, linewatch, stop_line, wait_ready
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import COMMANDS, DEADLETTER, TELEMETRY
from runtime import broker
from runtime.admin import ensure_topics

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
MAX_HOLD = timedelta(hours=1)  # a score stands for its machine until the next one, at most this long
BANDS = ("good", "watch", "act")
TARGET_ACT_SHARE = 0.30
TARGET_ALERTS_PER_OPERATOR_HOUR = 6.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _count(consumer: KafkaConsumer, topic: str) -> int:
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    return sum(consumer.end_offsets(parts).values()) if parts else 0


def band_hours(rows: list[tuple], since: datetime | None = None) -> dict[str, float]:
    """Machine-hours per health band; each score holds until the machine's next score (≤ ``MAX_HOLD``)."""
    from pipelines.health import band

    by_machine: dict[str, list[tuple[datetime, float]]] = {}
    for machine, ts, health, *_ in rows:
        by_machine.setdefault(machine, []).append((ts, health))
    hours = dict.fromkeys(BANDS, 0.0)
    for points in by_machine.values():
        points.sort()
        for (ts, health), (nxt, _) in zip(points, points[1:], strict=False):
            if since is not None and ts < since:
                continue
            hours[band(health).value] += min(nxt - ts, MAX_HOLD).total_seconds() / 3600.0
    return hours


def shares(hours: dict[str, float]) -> dict[str, float | None]:
    total = sum(hours.values())
    return {b: (round(h / total, 4) if total else None) for b, h in hours.items()}


def _store_figures(store_url: str, start: datetime, end: datetime, half: datetime) -> dict:
    """Band machine-hours (whole run, second half), failures and planned actions per mode, from the store."""
    from store import Store
    from store.repos import kpi_data, scores

    store = Store.open(StoreSettings(url=store_url), upgrade=False)
    try:
        with store.engine.connect() as conn:
            rows = scores.health_points(conn)
            events = kpi_data.events_frame(conn, start, end + timedelta(days=1), None)
    finally:
        store.close()
    failures = events[events["kind"] == "failure"].groupby("mode").size().to_dict()
    done = events[(events["kind"] == "maintenance_done") & (events["planned"] == True)]  # noqa: E712 - pandas mask
    whole, second = band_hours(rows), band_hours(rows, since=half)
    return {"scores": len(rows), "per_machine_second_half": _per_machine(rows, half),
            "band_hours": {k: round(v, 1) for k, v in whole.items()},
            "band_share": shares(whole), "band_hours_second_half": {k: round(v, 1) for k, v in second.items()},
            "band_share_second_half": shares(second), "failures_by_mode": {k: int(v) for k, v in failures.items()},
            "planned_actions_by_component": {k: int(v) for k, v in done.groupby("component").size().items()}}


def _per_machine(rows: list[tuple], since: datetime) -> dict[str, dict]:
    """Per machine over the second half: act share, median health and median predicted RUL (why a band holds)."""
    import statistics

    out = {}
    for machine in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == machine and r[1] >= since]
        hours = band_hours(mine)
        ruls = [r[3] for r in mine if r[3] is not None]
        out[machine] = {"act_share": shares(hours)["act"], "median_health": statistics.median(r[2] for r in mine)
                        if mine else None, "median_rul_hours": round(statistics.median(ruls), 2) if ruls else None}
    return out


def _api_kpis(env: dict[str, str], logs: Path, start: datetime, end: datetime, half: datetime) -> dict:
    """``GET /alert-system/kpis`` per line (whole run and second half) from ``linewatch serve`` on the arm's store."""
    from store import Store
    from store.credentials import Role
    from store.repos.auth import create_user

    store = Store.open(StoreSettings(url=env["LINEWATCH_STORE__URL"]))
    with store.engine.begin() as conn:
        create_user(conn, "bench", "amber-lathe-crane-42", Role.VIEWER)
    store.close()
    port = _free_port()
    serve = subprocess.Popen(linewatch("serve", "--no-background"), env={**env, "LINEWATCH_PORT": str(port)},
                             cwd=ROOT, stdout=open(logs / "serve.log", "wb"), stderr=subprocess.STDOUT,
                             start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, serve, timeout_s=120)
        token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "bench", "password": "amber-lathe-crane-42"},
                           timeout=30).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        out: dict[str, dict] = {}
        for line in ("line-1", "line-2"):
            for name, lo in (("whole", start), ("second_half", half)):
                r = httpx.get(f"{base}/api/v1/alert-system/kpis", headers=headers, timeout=60,
                              params={"line": line, "from": lo.isoformat(), "to": end.isoformat()})
                r.raise_for_status()
                k = r.json()
                out.setdefault(line, {})[name] = {
                    key: k[key] for key in ("from", "to", "alerts", "alerts_per_hour", "flood_window_share",
                                            "chattering_alerts", "stale_alerts", "top10_share", "priority_split")}
            r = httpx.get(f"{base}/api/v1/alert-system/kpis", headers=headers, timeout=60, params={"line": line})
            r.raise_for_status()
            keys = ("from", "to", "alerts", "alerts_per_hour")
            out[line]["api_default_window"] = {key: r.json()[key] for key in keys}
        return out
    finally:
        os.killpg(serve.pid, 15)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, 9)


def run_arm(maintain: str, days: float, registry: Path, keep_logs: Path) -> dict:
    """One arm: the demo pieces (+ the maintainer) for ``days`` simulated days, then the figures."""
    work = Path(tempfile.mkdtemp(prefix=f"lw-bench-maint-{maintain}-"))
    info = broker.start(work / "kafka", timeout_s=180)
    procs: dict[str, subprocess.Popen] = {}
    began = time.monotonic()
    try:
        kafka = KafkaSettings(bootstrap_servers=info.bootstrap)
        ensure_topics(kafka)
        store_url = f"sqlite:///{work / 'store.db'}"
        env = {**os.environ, "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": info.bootstrap, "LINEWATCH_STORE__URL": store_url,
               "LINEWATCH_REGISTRY_DIR": str(registry), "LINEWATCH_DATA_DIR": str(registry.parent),
               "LINEWATCH_CHECK_BROKER": "false", "PYTHONUNBUFFERED": "1"}
        from store import Store

        Store.open(StoreSettings(url=store_url)).close()
        logs = work / "logs"
        logs.mkdir()
        pieces = [("score", linewatch("score", "--metrics-port", "0")),
                  ("persist", linewatch("persist", "--metrics-port", "0"))]
        if maintain != "none":
            pieces.append(("maintain", linewatch("maintain", "--policy", maintain, "--metrics-port", "0")))
        pieces.append(("simulate", linewatch("simulate", "--speed", "3600", "--seed", str(SEED), "--metrics-port", "0",
                                             "--duration-hours", str(days * 24))))
        for name, argv in pieces:
            procs[name] = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=open(logs / f"{name}.log", "wb"),
                                           stderr=subprocess.STDOUT, start_new_session=True)
        admin = KafkaAdminClient(**kafka.client_kwargs())
        consumer = KafkaConsumer(**kafka.client_kwargs())
        series: list[dict] = []
        t0 = time.monotonic()
        print(f"demo_maintained [{maintain}]: {days:g} simulated days at 3600x (logs {logs})", flush=True)
        while True:
            time.sleep(5)
            try:
                behind, produced = lag(admin, consumer, TELEMETRY.name)
            except KafkaError:
                continue
            series.append({"t_s": round(time.monotonic() - t0, 1), "lag": behind, "produced": produced,
                           "load1": round(os.getloadavg()[0], 2)})
            if len(series) % 12 == 0:
                print(f"  [{maintain}] {series[-1]}", flush=True)
            died = [n for n, p in procs.items() if n != "simulate" and p.poll() is not None]
            if died:
                raise RuntimeError(f"{died} exited early: see {logs}")
            if procs["simulate"].poll() is not None and behind == 0:
                break
            if time.monotonic() - t0 > days * 24 + 600:
                raise RuntimeError(f"the scorer did not drain in time (lag {behind}): see {logs}")
        time.sleep(10 if maintain != "none" else 3)  # the maintainer and persist finish their last batches
        commands, dead = _count(consumer, COMMANDS.name), _count(consumer, DEADLETTER.name)
        admin.close()
        consumer.close()
        for name in ("score", "persist", "maintain"):
            if name in procs and procs[name].poll() is None:
                os.killpg(procs[name].pid, 15)
        for p in procs.values():
            p.wait(60)
        from simulators.physics.line import DEFAULT_START

        start = DEFAULT_START
        end = start + timedelta(days=days)
        half = start + timedelta(days=days / 2)
        figures = _store_figures(store_url, start, end, half)
        kpis = _api_kpis(env, logs, start, end, half)
        maintain_log = (logs / "maintain.log").read_text(errors="replace") if maintain != "none" else ""
        for f in logs.glob("*.log"):
            shutil.copy(f, keep_logs / f"{maintain}-{f.name}")
        return {"maintain": maintain, "seed": SEED, "days": days, "wall_s": round(time.monotonic() - began, 1),
                "commands_on_topic": commands, "dead_letters": dead,
                "maintainer_command_log_lines": sum(" command " in ln for ln in maintain_log.splitlines()),
                "lag_max_records": max(s["lag"] for s in series), "lag_mean_records": round(
                    sum(s["lag"] for s in series) / len(series), 1),
                "load_average_mean_1min": round(sum(s["load1"] for s in series) / len(series), 2),
                **figures, "alert_system_kpis": kpis, "series": series}
    finally:
        stop_line(procs.values(), work)


def plot(arms: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"good": "#7a9a7a", "watch": "#d9b44a", "act": "#b5483d"}
    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels = [f"{name}\n(second half)" for name in arms]
    left = [0.0] * len(arms)
    for b in BANDS:
        vals = [(arms[a]["band_share_second_half"][b] or 0.0) for a in arms]
        ax.barh(labels, vals, left=left, color=colours[b], label=b)
        for i, v in enumerate(vals):
            if v > 0.04:
                ax.text(left[i] + v / 2, i, f"{v:.0%}", ha="center", va="center", fontsize=9)
        left = [x + v for x, v in zip(left, vals, strict=True)]
    ax.axvline(1 - TARGET_ACT_SHARE, color="black", ls=":", lw=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of machine-hours per health band (dotted: act ≤ 30 % starts here)")
    ax.legend(ncol=3, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def run(results_dir: Path) -> dict:
    days = float(os.environ.get("LINEWATCH_BENCH_MAINTAINED_DAYS", "10"))
    registry = Path(os.environ.get("LINEWATCH_BENCH_REGISTRY") or ROOT / "var" / "bench" / "registry")
    registry.parent.mkdir(parents=True, exist_ok=True)
    keep_logs = ROOT / "var" / "bench" / "demo_maintained-logs"
    keep_logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LINEWATCH_REGISTRY_DIR": str(registry), "LINEWATCH_DATA_DIR": str(registry.parent)}
    trained_s = ensure_champion(registry, env)
    began = time.monotonic()
    # the maintainer's training basis (the pilot's, cached next to the registry) before the clock runs
    from contracts.plant import load_plant
    from services.maintain.worker import policy_factory
    from services.pilot.config import PilotConfig

    policy_factory("predictive", load_plant(ROOT / "simulators" / "plants" / "demo.yaml"), PilotConfig(),
                   registry, say=print)
    basis_s = time.monotonic() - began
    arms = {m: run_arm(m, days, registry, keep_logs) for m in ("none", "predictive")}
    verdict = {}
    for name, arm in arms.items():
        act = arm["band_share_second_half"]["act"]
        rate = max(arm["alert_system_kpis"][ln]["second_half"]["alerts_per_hour"] for ln in ("line-1", "line-2"))
        verdict[name] = {"act_share_second_half": act, "max_alerts_per_operator_hour_second_half": round(rate, 3),
                         "act_share_met": act is not None and act <= TARGET_ACT_SHARE,
                         "alert_rate_met": rate <= TARGET_ALERTS_PER_OPERATOR_HOUR}
    res = {"what": "demo pieces at 3600x (simulate seed 7, quick champion, score + persist on SQLite) for "
                   f"{days:g} simulated days; 'predictive' adds `linewatch maintain --policy predictive`, 'none' "
                   "is the same run unmaintained (baseline). Bands from stored scores; alert KPIs from "
                   "GET /alert-system/kpis per line (one operator per line)",
           "targets": {"act_share_max": TARGET_ACT_SHARE,
                       "alerts_per_operator_hour_max": TARGET_ALERTS_PER_OPERATOR_HOUR},
           "verdict": verdict, "train_seconds": round(trained_s, 1), "basis_seconds": round(basis_s, 1),
           "uptime_at_end": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
           "ts": datetime.now(UTC).isoformat(), "arms": arms}
    (results_dir / "demo_maintained.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    plot(arms, results_dir / "demo_maintained.png")
    summary = {k: v for k, v in res.items() if k != "arms"} | {
        "arms": {n: {k: v for k, v in a.items() if k != "series"} for n, a in arms.items()}}
    print(json.dumps(summary, indent=1, default=str), flush=True)
    return {"verdict": verdict, "uptime_at_end": res["uptime_at_end"]}
