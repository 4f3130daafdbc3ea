"""API latency at a fixed request rate: p50/p99 of GET /plant (health) and GET /alerts
(alert list) against a real uvicorn server on a SQLite store with realistic data
(10 machines x 1 day of per-minute scores, 2,000 alerts). Writes bench/results/api.json."""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from contracts import AlertAction, AlertEvent, HealthScore, StoreSettings
from contracts.plant import load_plant
from services.api import ApiSettings, create_app
from store import Store
from store.credentials import Role
from store.repos.auth import create_user

RATE_PER_S = 50
SECONDS = 10


def _seed(store: Store, plant_file: Path) -> None:
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _measure(client: httpx.Client, path: str) -> dict[str, float]:
    latencies, errors = [], 0
    began = time.perf_counter()
    for i in range(RATE_PER_S * SECONDS):
        target = began + i / RATE_PER_S  # fixed schedule: open-loop pacing
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = time.perf_counter()
        r = client.get(path)
        latencies.append((time.perf_counter() - t) * 1000)
        errors += r.status_code != 200
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "errors": errors, "rate_per_s": RATE_PER_S, "p50_ms": round(q[49], 2),
            "p99_ms": round(q[98], 2), "max_ms": round(max(latencies), 2)}


def run(results_dir: Path) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="lw-bench-api-"))
    settings = ApiSettings(store=StoreSettings(url=f"sqlite:///{folder}/bench.db"), check_broker=False,
                           background_tasks=False)
    store = Store.open(settings.store)
    _seed(store, settings.plant_file)
    with store.engine.begin() as conn:
        create_user(conn, "bench", "correct-horse-battery-staple", Role.VIEWER)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            token = client.post("/api/v1/auth/login", json={"username": "bench",
                                                            "password": "correct-horse-battery-staple"}
                                ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            client.get("/api/v1/plant")  # warm up
            result = {"plant_health": _measure(client, "/api/v1/plant"),
                      "alert_list": _measure(client, "/api/v1/alerts?limit=100"),
                      "store": "sqlite (WAL)", "data": "10 machines x 1440 scores, 2000 alerts",
                      "server": "uvicorn, 1 worker, same host", "ts": datetime.now(UTC).isoformat()}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
    (results_dir / "api.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result
