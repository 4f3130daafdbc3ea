"""Shared pieces of the connector integration tests (no tests here): PLC faces as real
server processes, a connector in-process, and reading telemetry back from Kafka."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kafka import KafkaConsumer
from prometheus_client import CollectorRegistry

from contracts.messages import TelemetrySample
from contracts.settings import KafkaSettings
from contracts.topics import TELEMETRY
from runtime import broker
from runtime.admin import ensure_topics
from services.connectors.app import Connector, ConnectorOptions, ConnectorSettings
from services.connectors.core.mapping import parse_mapping

ROOT = Path(__file__).resolve().parents[2]


class Face:
    """A PLC face as its own process (so it can be killed and restarted on the same port)."""

    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self.port = broker.free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Face:
        self.proc = subprocess.Popen([sys.executable, "-m", "simulators.plc", *self.args, "--port", str(self.port)],
                                     cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, 90, f"the {self.args[0]} face on port {self.port}")
        return self

    def _listening(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, f"{self.args[0]} face exited"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def connector(tmp_path: Path, kafka_settings: KafkaSettings, mapping_yaml: str, topic: str,
              deadletter: str = "linewatch.deadletter.v1") -> Connector:
    """Build (not start) a connector writing to ``topic``, with a private metrics registry."""
    ensure_topics(kafka_settings, [topic, deadletter], partitions=3)
    settings = ConnectorSettings(kafka=kafka_settings, connector=ConnectorOptions(
        buffer_path=tmp_path / "buffer.sqlite", metrics_port=0, telemetry_topic=topic, deadletter_topic=deadletter))
    return Connector(parse_mapping(mapping_yaml, "test.yaml"), settings, registry=CollectorRegistry())


def read_until(kafka_settings: KafkaSettings, topic: str, done: Callable[[list], bool],
               timeout_s: float = 60.0, decode: Callable = TELEMETRY.decode) -> list:
    """All samples on ``topic`` from the start, read until ``done(samples)`` or the timeout."""
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", enable_auto_commit=False,
                             group_id=None, **kafka_settings.client_kwargs())
    out: list[TelemetrySample] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not done(out):
            for records in consumer.poll(timeout_ms=500).values():
                out.extend(decode(r.value) for r in records)
    finally:
        consumer.close()
    return out


def stop_all(*stoppers: Callable[[], object]) -> None:
    """Call every stop function even if one fails, so no server outlives its test."""
    errors = []
    for stop in stoppers:
        try:
            stop()
        except Exception as exc:  # noqa: BLE001 - report after all are stopped
            errors.append(exc)
    if errors:
        raise errors[0]


def by_machine(samples: list[TelemetrySample]) -> dict[str, list[TelemetrySample]]:
    out: dict[str, list[TelemetrySample]] = {}
    for s in samples:
        out.setdefault(s.machine_id, []).append(s)
    return out


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


class Mosquitto:
    """Debian's mosquitto started by the project's script, in its own folder; restartable on its port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = 0

    def start(self) -> Mosquitto:
        out = subprocess.run([str(ROOT / "scripts" / "mosquitto.sh"), "start", str(self.port), str(self.folder)],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, f"mosquitto did not start: {out.stderr}"
        self.port = int(out.stdout.split("port=")[1].split()[0])
        return self

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "mosquitto.sh"), "stop", str(self.folder)], capture_output=True,
                       timeout=30)
