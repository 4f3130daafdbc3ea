"""Sparkplug B source: an MQTT host application for one Sparkplug group (paho-mqtt 2.2)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import paho.mqtt.client as mqtt

from contracts.errors import ConfigError, ContractError
from services.connectors.core.mapping import SparkplugSource
from services.connectors.core.samples import SampleAssembler
from services.connectors.core.sparkplug import NAMESPACE, SparkplugSession, rebirth_command
from services.connectors.forwarder import Sink
from services.connectors.metrics import ConnectorMetrics

log = logging.getLogger("linewatch.connectors.sparkplug")


class SparkplugRunner:
    """Subscribes to ``spBv1.0/<group>/#``; paho's network thread does the I/O and reconnects."""

    protocol = "sparkplug"

    def __init__(self, cfg: SparkplugSource, sink: Sink, metrics: ConnectorMetrics, seqs: dict[str, int]) -> None:
        self.cfg = cfg
        self.sink = sink
        self.metrics = metrics
        self.assembler = SampleAssembler("sparkplug", seqs)
        self.session = SparkplugSession(cfg.group_id, list(cfg.tags))
        self.rebirths_sent = 0
        self._lock = threading.Lock()  # paho callbacks vs. stop
        self._warned: set[str] = set()
        self._connected_before = False
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=cfg.client_id or f"linewatch-host-{cfg.name}", clean_session=True)
        if cfg.username:
            password = os.environ.get(cfg.password_env or "")
            if password is None:
                raise ConfigError(f"source {cfg.name}: environment variable {cfg.password_env} is not set")
            self.client.username_pw_set(cfg.username, password)
        if cfg.tls:
            self.client.tls_set(ca_certs=str(cfg.ca_file) if cfg.ca_file else None)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.metrics.errors.labels("sparkplug", "connect").inc()
            return
        if self._connected_before:
            self.metrics.reconnects.labels(self.cfg.name).inc()
        self._connected_before = True
        self.metrics.connected.labels(self.cfg.name).set(1)
        client.subscribe(f"{NAMESPACE}/{self.cfg.group_id}/#", qos=0)
        log.info("%s: connected to %s:%d, group %s", self.cfg.name, self.cfg.host, self.cfg.port, self.cfg.group_id)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.metrics.connected.labels(self.cfg.name).set(0)
        with self._lock:  # no broker: the host cannot vouch for any value any more
            self.sink.emit("sparkplug", self.assembler.offline(sorted({t.machine for t in self.cfg.tags})))

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            try:
                self.handle(msg.topic, bytes(msg.payload))
            except Exception as exc:  # never let one message kill paho's thread
                log.exception("%s: message on %s failed: %r", self.cfg.name, msg.topic, exc)

    def handle(self, topic: str, payload: bytes) -> None:
        try:
            out = self.session.handle(topic, payload)
        except ContractError as exc:
            self.metrics.errors.labels("sparkplug", "decode").inc()
            log.error("%s: %s (dead-lettered)", self.cfg.name, exc)
            self.sink.dead_letter("connector-sparkplug", topic, payload, str(exc), "ContractError")
            return
        for name in out.unknown_metrics:
            self.metrics.tag_updates.labels("sparkplug", "unknown_tag").inc()
            if name not in self._warned and len(self._warned) < 1000:
                self._warned.add(name)
                log.warning("%s: metric %s is not in the mapping; ignored (logged once)", self.cfg.name, name)
        if out.gap:
            self.metrics.errors.labels("sparkplug", "sequence_gap").inc()
        if out.rebirth and self.cfg.rebirth_on_gap:
            self.client.publish(f"{NAMESPACE}/{self.cfg.group_id}/NCMD/{out.rebirth}", rebirth_command(), qos=0)
            self.rebirths_sent += 1
            log.warning("%s: sequence gap or unknown alias from %s: rebirth requested", self.cfg.name, out.rebirth)
        for tag, value, ts, quality in out.updates:
            number = float(value) if isinstance(value, (int, float)) else None
            if number is None and value is not None:
                self.metrics.tag_updates.labels("sparkplug", "bad_value").inc()
                continue
            accepted = self.assembler.update(tag, number, ts, quality)
            self.metrics.tag_updates.labels("sparkplug", "accepted" if accepted else "deadband").inc()
        self.sink.emit("sparkplug", self.assembler.flush(), self.assembler.events())
        if out.offline:
            self.sink.emit("sparkplug", self.assembler.offline(out.offline))

    async def run(self, stop: asyncio.Event) -> None:
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=10)
        self.client.loop_start()
        try:
            await stop.wait()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
