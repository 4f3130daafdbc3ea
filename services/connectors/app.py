"""The connector process: the mapping's sources -> disk buffer -> Kafka.

``Connector(mapping, settings).run()`` blocks until stopped (Ctrl-C or ``stop()``);
``start()`` runs it in a background thread (tests, embedding). All sources share one
disk buffer and one forwarder; each source reconnects on its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any, Literal

from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from contracts.errors import ConfigError
from runtime.probes import HealthServer
from runtime.settings import LineWatchSettings
from services.connectors.buffer import DiskBuffer
from services.connectors.core.mapping import Mapping
from services.connectors.forwarder import Forwarder, Sink
from services.connectors.metrics import ConnectorMetrics

log = logging.getLogger("linewatch.connectors")


class ConnectorOptions(BaseModel):
    """``LINEWATCH_CONNECTOR__*`` settings."""

    model_config = ConfigDict(extra="forbid")

    buffer_path: Path = Field(default=Path("var/connector-buffer.sqlite"),
                              description="Disk buffer (SQLite); one per connector process.")
    buffer_max_records: int = Field(default=1_000_000, ge=100, description="About 600 bytes per record.")
    buffer_full_policy: Literal["drop_oldest", "block"] = "drop_oldest"
    metrics_port: int = Field(default=9403, ge=0, le=65535, description="0 disables the /metrics endpoint.")
    metrics_host: str = Field(default="127.0.0.1", min_length=1,
                              description="Address /metrics and /healthz bind to; the container image sets 0.0.0.0.")
    telemetry_topic: str = "linewatch.telemetry.v1"
    deadletter_topic: str = "linewatch.deadletter.v1"
    events_topic: str = Field(default="linewatch.events.v1", description="plc_alarm and state_changed events.")
    forward_batch: int = Field(default=500, ge=1)
    signal_quality: bool = Field(default=True, description="Flag stuck/out-of-range/spiking/missing signals as "
                                                           "uncertain (needs the plant file).")


class ConnectorSettings(LineWatchSettings):
    connector: ConnectorOptions = Field(default_factory=ConnectorOptions)


def _flagger(mapping: Mapping, settings: ConnectorSettings, metrics: ConnectorMetrics) -> Any:
    """Signal-quality flags for the machines of the mapping's plant file (else the configured one)."""
    from contracts.plant import load_plant
    from services.connectors.core.quality import SampleFlagger

    plant_file = mapping.plant or settings.plant_file
    if plant_file is None or not Path(plant_file).exists():
        return None
    return SampleFlagger(load_plant(plant_file), on_fault=lambda fault: metrics.signal_faults.labels(fault).inc())


def _runner(cfg: Any, sink: Sink, metrics: ConnectorMetrics, seqs: dict[str, int]) -> Any:
    # Imported per protocol so a deployment that only speaks Modbus never loads asyncua.
    if cfg.protocol == "opcua":
        from services.connectors.opcua import OpcUaRunner
        return OpcUaRunner(cfg, sink, metrics, seqs)
    if cfg.protocol == "sparkplug":
        from services.connectors.sparkplug import SparkplugRunner
        return SparkplugRunner(cfg, sink, metrics, seqs)
    from services.connectors.modbus import ModbusRunner
    return ModbusRunner(cfg, sink, metrics, seqs)


class Connector:
    """Runs every source of a mapping until stopped."""

    def __init__(self, mapping: Mapping, settings: ConnectorSettings,
                 registry: CollectorRegistry = REGISTRY) -> None:
        opts = settings.connector
        self.mapping = mapping
        self.settings = settings
        self.registry = registry
        self.metrics = ConnectorMetrics.create(registry)
        self.buffer = DiskBuffer(opts.buffer_path, opts.buffer_max_records, opts.buffer_full_policy,
                                 on_drop=self.metrics.buffer_dropped.inc)
        self.flagger = _flagger(mapping, settings, self.metrics) if opts.signal_quality else None
        self.sink = Sink(self.buffer, self.metrics, opts.telemetry_topic, opts.deadletter_topic, opts.events_topic,
                         flag=self.flagger)
        self.forwarder = Forwarder(self.buffer, settings.kafka, self.metrics, batch=opts.forward_batch)
        seqs = self.buffer.seqs()
        self.runners = [_runner(src, self.sink, self.metrics, seqs) for src in mapping.sources]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        """Block until ``stop()`` or Ctrl-C; on the way out forward what it can, keep the rest on disk."""
        if self.settings.connector.metrics_port:
            opts = self.settings.connector
            try:
                HealthServer(opts.metrics_port, self.registry, live=self.health, addr=opts.metrics_host).start()
            except OSError as exc:
                self.buffer.close()
                raise ConfigError(f"metrics: cannot listen on {opts.metrics_host}:{opts.metrics_port}: "
                                  f"{exc.strerror or exc}; set LINEWATCH_CONNECTOR__METRICS_HOST / "
                                  f"LINEWATCH_CONNECTOR__METRICS_PORT (0 = off)") from exc
        self.forwarder.start()
        try:
            asyncio.run(self._main())
        finally:
            self.forwarder.stop()
            self.buffer.close()

    def health(self) -> tuple[bool, str]:
        """Liveness for /healthz: the sources' event loop runs and the forwarder thread is alive."""
        if self._loop is None:
            return True, "starting"
        if not self._loop.is_running():
            return False, "source event loop stopped"
        if not self.forwarder.is_alive():
            return False, "forwarder thread stopped"
        return True, f"ok: {len(self.runners)} sources, {self.buffer.path}"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        log.info("connector: %d sources, %d tags, buffer %s", len(self.runners),
                 sum(len(s.tags) for s in self.mapping.sources), self.buffer.path)
        results = await asyncio.gather(*(r.run(self._stop) for r in self.runners), return_exceptions=True)
        for runner, res in zip(self.runners, results, strict=True):
            if isinstance(res, BaseException):
                log.error("source %s stopped: %r", runner.cfg.name, res)

    def start(self) -> Connector:
        """Run in a background thread; returns once the sources are starting."""
        self._thread = threading.Thread(target=self.run, name="linewatch-connector", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Idempotent: stop the sources, forward what Kafka takes in a few seconds, keep the rest on disk."""
        if self._loop is not None and self._stop is not None:
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # loop already finished: stopped before
                pass
        if self._thread is not None:
            self._thread.join(timeout_s)
