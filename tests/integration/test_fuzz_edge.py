"""Fuzz tier: mutated telemetry into the real broker while a real scoring worker runs.

300 mutants of every kind of ``tests/fuzz/corpus.py`` (truncated, invalid UTF-8, deep
nesting, one 1 MB and one 5 MB payload, NaN/Infinity, extreme timestamps, timestamps days
ahead of or behind the machine's timeline, hostile ids, duplicate keys, wrong types, unknown
schema versions, booleans, 50,000 signals, …) into the telemetry topic, then 20 valid samples
per machine. The worker process must never exit or restart, every rejected record must be
dead-lettered with a reason at its coordinates (the oversized ones as summaries with size,
hash and prefix), no acceptable record may be, every due window of the valid samples
afterwards must be scored (no machine captured by a bad timestamp), and ``/healthz`` must
answer 200 throughout (true: the worker never restarted). Kept small for ``make test``; the
10,000-message run with 10 x kill -9 is ``python -m bench fuzz`` (bench/results/fuzz.json).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from contracts.settings import StoreSettings
from store import Store
from tests.fuzz import harness
from tests.fuzz.corpus import KINDS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return -1, str(exc)


def test_mutated_telemetry_is_dead_lettered_and_valid_samples_still_score(kafka_settings, unique, registry_dir,
                                                                          tmp_path):
    run = harness.prepare(kafka_settings, unique("fz"), tmp_path, warmup=20, after=20)
    db = f"sqlite:///{tmp_path}/lw.db"
    store = Store.open(StoreSettings(url=db))
    port = free_port()
    env = {**os.environ, **harness.worker_env(run, kafka_settings, db, registry_dir, unique("g"), port)}
    harness.produce_warmup(kafka_settings, run)
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "score"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    health: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            code, body = get(f"http://127.0.0.1:{port}/healthz")
            health.append((time.monotonic(), code, body.strip()))
            stop.wait(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        harness.produce_mutants(kafka_settings, run, 300, seed=16, big=2)
        harness.produce_after(kafka_settings, run)
        expected = harness.expected_after_scores(run)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not expected <= harness.stored_scores(store):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            time.sleep(1)
        _, metrics = get(f"http://127.0.0.1:{port}/metrics")
    finally:
        stop.set()
        watcher.join(10)
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    letters = harness.dead_letters(kafka_settings, run.began_ms, want=sum(m.expect != "kept" for m in run.mutants))
    verdict = harness.check(run, letters, harness.stored_scores(store))
    assert verdict.kinds == len(KINDS)
    assert verdict.missing == [] and verdict.unexpected == [] and verdict.summary_errors == []
    big = [(m, c) for m, c in zip(run.mutants, run.coords, strict=True) if m.kind in ("huge_1mb", "huge_5mb")]
    assert len(big) == 2 and max(len(m.value) for m, _ in big) > 5_000_000
    assert all(letters[c].truncated and letters[c].value_bytes == len(m.value) for m, c in big)
    assert verdict.after_scored == verdict.after_expected > 0
    assert {"ContractError", "UnknownMachine", "UnknownSignals", "TimeTooFarAhead", "TimeTooFarBehind",
            "TimeJumpAhead", "OutOfOrder"} <= set(verdict.by_reason)
    assert "linewatch_scoring_restarts_total 0.0" in metrics
    answered = [code for _, code, _ in health if code != -1]  # -1: HTTP server not up yet
    assert answered and set(answered) == {200}, [h for h in health if h[1] not in (200, -1)][:5]
