"""``linewatch demo``: the main job. Starts Kafka and shows a live telemetry round trip.

(Issue 7 grows this into the whole simulated pilot line with scoring, API and UI.)
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import typer
from rich.console import Console
from rich.table import Table

from contracts import TELEMETRY, TelemetrySample
from runtime import broker
from runtime.admin import ensure_topics
from runtime.consumer import ConsumeLoop, Record
from runtime.producer import Producer
from runtime.settings import LineWatchSettings


def command(samples: int = typer.Option(200, min=1, max=1_000_000, help="Samples to send."),
            keep_kafka: bool = typer.Option(False, help="Leave the broker running afterwards.")) -> None:
    """Start Kafka, send telemetry through it and read it back, then stop what it started."""
    console = Console()
    info = broker.start()
    console.print(f"kafka running at [bold]{info.bootstrap}[/] (pid {info.pid}, {info.started_s}s)")
    settings = LineWatchSettings(kafka={"bootstrap_servers": info.bootstrap})
    try:
        ensure_topics(settings.kafka)
        t0 = datetime.now(timezone.utc)
        began = time.perf_counter()
        with Producer(settings.kafka) as producer:
            for i in range(samples):
                machine = f"line-1/cnc-{i % 6 + 1:02d}"
                producer.send(TELEMETRY, TelemetrySample(
                    machine_id=machine, ts=t0 + timedelta(seconds=i), seq=i // 6,
                    signals={"spindle_power_kw": 7.0 + (i % 10) / 10, "spindle_vibration_rms_mm_s": 1.2}))
        seen: dict[str, int] = {}

        def handle(records: list[Record]) -> None:
            for r in records:
                if r.value.ts >= t0:
                    seen[r.value.machine_id] = seen.get(r.value.machine_id, 0) + 1

        loop = ConsumeLoop(settings.kafka, [TELEMETRY], f"linewatch-demo-{uuid.uuid4().hex[:6]}", handle, "demo")
        deadline = time.monotonic() + 60
        loop.run(until=lambda: sum(seen.values()) >= samples or time.monotonic() > deadline)
        table = Table("machine", "samples received", title="telemetry round trip through Kafka")
        for machine, n in sorted(seen.items()):
            table.add_row(machine, str(n))
        console.print(table)
        console.print(f"{sum(seen.values())}/{samples} samples in {time.perf_counter() - began:.2f}s")
        if sum(seen.values()) < samples:
            raise typer.Exit(1)
    finally:
        if not keep_kafka:
            broker.stop()
            console.print("kafka stopped")
