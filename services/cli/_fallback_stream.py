"""A stand-in telemetry source for ``linewatch demo`` while ``linewatch simulate`` is not
available: the scoring stage's seeded demo stream (``pipelines.scoring.demostream``), paced
at ``speed`` simulated seconds per wall second, published from a background thread.

Two machines degrade over the run so the models and alert rules have something to show.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from contracts import TELEMETRY
from contracts.plant import load_plant
from runtime.producer import Producer
from runtime.settings import LineWatchSettings

DEGRADING = ("line-1/cnc-03", "line-2/robot-02")


def start(settings: LineWatchSettings, speed: float, seed: int, stop: threading.Event) -> threading.Thread:
    """Start publishing in a daemon thread; set ``stop`` to end it."""
    from pipelines.scoring.demostream import samples

    plant = load_plant(settings.plant_file)
    ids = {m.id for m in plant.machines()}
    degrading = tuple(d for d in DEGRADING if d in ids)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)

    def run() -> None:
        wall0 = time.monotonic()
        with Producer(settings.kafka) as producer:
            for sample in samples(plant, 10**7, seed=seed, start=t0, degrading=degrading):
                if stop.is_set():
                    return
                due = wall0 + (sample.ts - t0).total_seconds() / speed
                delay = due - time.monotonic()
                if delay > 0:
                    if stop.wait(delay):
                        return
                producer.send(TELEMETRY, sample)

    thread = threading.Thread(target=run, name="demo-stream", daemon=True)
    thread.start()
    return thread
