"""OPC UA subscription throughput and memory of one connector process.

Setup: the simulator's OPC UA face in its own process publishes MACHINES x SIGNALS
variables (default 100 x 50 = 5,000 tags) once per second; this process runs the
connector's OPC UA source (subscription, 1 s publishing / sampling) writing samples into
the connector's disk buffer, drained as the forwarder would after Kafka acknowledges
(Kafka itself is left out so the figure is the OPC UA side). Measured: tag updates per
second received and turned into samples, and the process RSS sampled over the run.

Duration: ``LINEWATCH_BENCH_OPCUA_SECONDS`` (default 600 = the issue's 10 minutes).
Results: ``bench/results/opcua.json`` and ``bench/results/opcua.png``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from prometheus_client import CollectorRegistry
from rich.progress import Progress

from runtime.broker import free_port
from services.connectors.buffer import DiskBuffer
from services.connectors.core.mapping import parse_mapping
from services.connectors.forwarder import Sink
from services.connectors.metrics import ConnectorMetrics
from services.connectors.opcua import OpcUaRunner

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mapping(port: int, machines: int, signals: int) -> str:
    tags = "\n".join(f'      - {{node: "ns=2;s=line-b/m-{i:04d}/sensor{j:03d}_c", machine: line-b/m-{i:04d}, '
                     f"signal: sensor{j:03d}_c}}" for i in range(machines) for j in range(signals))
    return (f"sources:\n  - name: bench\n    protocol: opcua\n    endpoint: opc.tcp://127.0.0.1:{port}/linewatch/\n"
            f"    publishing_interval_ms: 1000\n    sampling_interval_ms: 1000\n    timeout_s: 30\n    tags:\n{tags}\n")


def _drain(buffer: DiskBuffer, stop: threading.Event) -> None:
    while not stop.is_set():
        records = buffer.peek(2000)
        buffer.ack([r.id for r in records]) if records else stop.wait(0.2)


async def _measure(runner: OpcUaRunner, metrics: ConnectorMetrics, seconds: float, warmup: float) -> dict:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    accepted = lambda: (metrics.tag_updates.labels("opcua", "accepted")._value.get()  # noqa: SLF001 - one labelled child's count: prometheus_client has no public getter
                        + metrics.tag_updates.labels("opcua", "deadband")._value.get())  # noqa: SLF001 - as above
    deadline = time.monotonic() + 180
    while runner.subscribed_items < len(runner.by_node) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    subscribe_s = 180 - (deadline - time.monotonic())
    await asyncio.sleep(warmup)
    began, base, series = time.monotonic(), accepted(), []
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with Progress() as progress:
        bar = progress.add_task("OPC UA bench", total=seconds)
        while (elapsed := time.monotonic() - began) < seconds:
            await asyncio.sleep(min(5.0, seconds - elapsed))
            t = time.monotonic() - began
            series.append({"t_s": round(t, 1), "rss_mb": round(_rss_mb(), 1),
                           "tags_per_s": round((accepted() - base) / t, 1)})
            progress.update(bar, completed=t)
    total = accepted() - base
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    stop.set()
    await task
    return {"subscribe_s": round(subscribe_s, 1), "updates": int(total), "series": series,
            "items": runner.subscribed_items, "calls": runner.chunk_calls, "cpu_s": cpu_s}


def _plot(series: list[dict], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    a.plot([p["t_s"] for p in series], [p["tags_per_s"] for p in series])
    a.set_ylabel("tag updates / s (cumulative mean)")
    b.plot([p["t_s"] for p in series], [p["rss_mb"] for p in series], color="tab:red")
    b.set_ylabel("connector RSS (MB)")
    b.set_xlabel("seconds")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(results_dir: Path) -> dict:
    seconds = float(os.environ.get("LINEWATCH_BENCH_OPCUA_SECONDS", "600"))
    machines = int(os.environ.get("LINEWATCH_BENCH_OPCUA_MACHINES", "100"))
    signals = int(os.environ.get("LINEWATCH_BENCH_OPCUA_SIGNALS", "50"))
    port = free_port()
    face = subprocess.Popen([sys.executable, "-m", "simulators.plc", "opcua", "--port", str(port), "--grid",
                             f"{machines}x{signals}", "--period", "1.0"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with TemporaryDirectory() as tmp:
            metrics = ConnectorMetrics.create(CollectorRegistry())
            buffer = DiskBuffer(Path(tmp) / "buffer.sqlite")
            runner = OpcUaRunner(parse_mapping(_mapping(port, machines, signals)).sources[0],
                                 Sink(buffer, metrics), metrics, {})
            stop = threading.Event()
            drain = threading.Thread(target=_drain, args=(buffer, stop), daemon=True)
            drain.start()
            rss0 = _rss_mb()
            got = asyncio.run(_measure(runner, metrics, seconds, warmup=10.0))
            stop.set()
            drain.join(5)
            buffer.close()
    finally:
        face.terminate()
        face.wait(30)
    series = got.pop("series")
    tags = machines * signals
    rss = [p["rss_mb"] for p in series]
    half = rss[len(rss) // 2:] or rss
    result = {
        "tags": tags, "offered_tag_updates_per_s": tags, "duration_s": seconds,
        "tag_updates_per_s": round(got["updates"] / seconds, 1),
        "delivered_share": round(got["updates"] / seconds / tags, 3),
        "connector_cpu_s": round(got["cpu_s"], 1),
        "tag_updates_per_cpu_s": round(got["updates"] / got["cpu_s"], 1) if got["cpu_s"] else None,
        "load_average_1m_at_end": round(os.getloadavg()[0], 1),
        "subscribe_all_items_s": got["subscribe_s"], "monitored_items": got["items"], "subscribe_calls": got["calls"],
        "rss_mb_before": round(rss0, 1), "rss_mb_end": rss[-1] if rss else None, "rss_mb_max": max(rss, default=None),
        "rss_growth_second_half_mb": round(half[-1] - half[0], 1) if half else None,
        "note": ("OPC UA face (separate process) -> connector OPC UA source -> disk buffer; Kafka excluded. "
                 "tag_updates_per_s is bounded by whichever side is slower on a shared machine; "
                 "tag_updates_per_cpu_s is the connector's own cost."),
        "series": series,
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "opcua.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(series, results_dir / "opcua.png", f"OPC UA connector: {tags} tags at 1 s")
    return {k: v for k, v in result.items() if k != "series"}
