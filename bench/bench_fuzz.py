"""Acceptance run of the hardened edge (issue 16): 10,000 mutated telemetry messages
(incl. 1 MB and 5 MB payloads and extreme timestamps) into the telemetry topic while a
scoring worker process runs, then 100 valid samples per machine; the worker is killed with
SIGKILL 10 times during the run and restarted each time.

Figures: worker crashes (exits we did not cause) and restart loops (``/healthz`` 503), share
of rejected records dead-lettered with a reason at their coordinates, valid due windows
scored, alert ids against a fault-free reference run of the same valid samples (no alert
lost or duplicated). Own broker on free ports. Writes ``results/fuzz.json``.
``LINEWATCH_BENCH_FUZZ_N`` (default 10000) and ``LINEWATCH_BENCH_FUZZ_KILLS`` (10).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return -1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reference_alerts(run, registry_dir: Path) -> set[str]:
    from pipelines.health import AlertRules
    from pipelines.models import Registry
    from pipelines.scoring.engine import ScoringEngine
    from tests.fuzz.harness import STEP

    reg = Registry(registry_dir)
    eng = ScoringEngine(run.plant, {k: reg.champion(k) for k in ("cnc", "robot")}, AlertRules(), score_every=STEP)
    ids: set[str] = set()
    items = run.warmup + run.after
    for i in range(0, len(items), 200):
        for s in items[i:i + 200]:
            eng.ingest(s, 0)
        ids |= {a.alert_id for a in eng.score_pending().alerts}
    return ids


def run(results_dir: Path) -> dict:
    from contracts.settings import KafkaSettings, StoreSettings
    from pipelines.testing.toymodel import publish_toy_champions
    from runtime import broker
    from store import Store
    from tests.fuzz import harness

    n = int(os.environ.get("LINEWATCH_BENCH_FUZZ_N", "10000"))
    kills = int(os.environ.get("LINEWATCH_BENCH_FUZZ_KILLS", "10"))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lw-fuzz-") as tmp_s:
        tmp = Path(tmp_s)
        info = broker.start(tmp / "kafka", timeout_s=180)
        try:
            settings = KafkaSettings(bootstrap_servers=info.bootstrap)
            registry_dir = tmp / "registry"
            publish_toy_champions(registry_dir)
            fz = harness.prepare(settings, "bench", tmp, warmup=100, after=100)
            db = f"sqlite:///{tmp}/lw.db"
            store = Store.open(StoreSettings(url=db))
            port = _free_port()
            env = {**os.environ, **harness.worker_env(fz, settings, db, registry_dir, "bench-fuzz", port)}
            start = lambda: subprocess.Popen([sys.executable, "-m", "services.cli", "score"], cwd=ROOT,
                                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            harness.produce_warmup(settings, fz)
            proc = start()
            health: list[int] = []
            crashes = 0
            stop = threading.Event()

            def watch() -> None:
                while not stop.is_set():
                    health.append(_get(f"http://127.0.0.1:{port}/healthz"))
                    stop.wait(0.5)

            threading.Thread(target=watch, daemon=True).start()
            producer = threading.Thread(target=lambda: (harness.produce_mutants(settings, fz, n, seed=2026, big=12),
                                                        harness.produce_after(settings, fz)))
            producer.start()
            expected = harness.expected_after_scores(fz)
            killed = 0
            deadline = time.monotonic() + 1800
            next_kill = time.monotonic() + 15

            def kill_due() -> bool:  # spread over the mutants: one per n/(kills+1) sent, then every 15 s
                if killed >= kills or time.monotonic() < next_kill:
                    return False
                return fz.sent >= (killed + 1) * n // (kills + 1) or not producer.is_alive()

            while time.monotonic() < deadline:
                if proc.poll() is not None:  # exited without our kill: a crash
                    crashes += 1
                    proc = start()
                if kill_due():
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(10)
                    killed += 1
                    print(f"  kill -9 #{killed} at {time.monotonic() - began:.0f}s; "
                          f"{fz.sent}/{n} mutants sent", flush=True)
                    proc = start()
                    next_kill = time.monotonic() + 15
                if killed >= kills and not producer.is_alive() and expected <= harness.stored_scores(store):
                    break
                time.sleep(0.5)
            producer.join()
            time.sleep(2.0)
            stop.set()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            rejects = sum(m.expect != "kept" for m in fz.mutants)
            letters = harness.dead_letters(settings, fz.began_ms, timeout_s=300, want=rejects)
            verdict = harness.check(fz, letters, harness.stored_scores(store))
            alerts = harness.stored_alerts(store)
            reference = _reference_alerts(fz, registry_dir)
            answered = [h for h in health if h != -1]
        finally:
            broker.stop(tmp / "kafka")
    out = {
        "mutants": verdict.mutants, "kinds": verdict.kinds,
        "big_payloads": sum(m.kind in ("huge_1mb", "huge_5mb") for m in fz.mutants),
        "expected_rejects": verdict.expected_rejects,
        "dead_lettered_with_reason": verdict.expected_rejects - len(verdict.missing),
        "dead_letter_share": round((verdict.expected_rejects - len(verdict.missing))
                                   / max(1, verdict.expected_rejects), 4),
        "summaries_of_oversized": verdict.summaries, "summary_errors": verdict.summary_errors[:10],
        "missing": verdict.missing[:10], "kept_but_dead_lettered": verdict.unexpected[:10],
        "by_error_type": verdict.by_reason,
        "valid_due_windows_after": verdict.after_expected, "scored_after": verdict.after_scored,
        "kill9": killed, "crashes": crashes,
        "healthz_503": sum(h == 503 for h in answered), "healthz_answers": len(answered),
        "alerts_stored": len(alerts), "alerts_reference": len(reference),
        "alerts_equal_reference": set(alerts) == reference, "duplicate_alert_ids": len(alerts) - len(set(alerts)),
        "seconds": round(time.monotonic() - began, 1), "loadavg_1m_end": round(os.getloadavg()[0], 2),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (results_dir / "fuzz.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out
