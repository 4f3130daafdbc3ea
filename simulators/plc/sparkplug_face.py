"""Sparkplug B edge node face of the simulated line (paho-mqtt 2.2, Sparkplug 3.0 payloads).

One edge node per line (``edge_node`` = line id), one device per machine (``device`` =
the machine's short id, since ``/`` cannot appear in a Sparkplug id), one metric per
signal named like the signal. NBIRTH/DBIRTH announce names with aliases and the
current values; DDATA then carries aliases only. The NDEATH (with the NBIRTH's bdSeq)
is the MQTT will, so the host learns of a lost edge node from the broker.
An NCMD ``Node Control/Rebirth`` makes the node publish its births again.
Each device also carries the Int32 metric ``machine_state`` (``lines.STATE_CODES``).

Several nodes can share ONE line (``machines=`` picks each node's devices): the caller
steps the line once per period and hands the samples to every node's ``publish_data``
(``start(drive=False)``); a node started with ``drive=True`` steps its own line.
DDATA goes out only for devices whose sample time changed (report by exception).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from contracts import sparkplug_b_pb2 as pb
from contracts.messages import TelemetrySample
from simulators.plc.lines import STATE_TAG, LatestSamples, state_code

log = logging.getLogger("linewatch.plc.sparkplug")
NS = "spBv1.0"


def _ms(ts: datetime | None = None) -> int:
    return int((ts or datetime.now(UTC)).timestamp() * 1000)


class SparkplugEdgeNode:
    """Publishes the line as Sparkplug B; ``start()`` / ``stop()`` run it in a background thread."""

    def __init__(self, line: LatestSamples, host: str, port: int, group_id: str, edge_node: str,
                 period_s: float = 1.0, bd_seq: int = 0, machines: list[str] | None = None,
                 latest: dict[str, TelemetrySample] | None = None) -> None:
        self.line, self.group_id, self.edge_node, self.period_s = line, group_id, edge_node, period_s
        self.host, self.port = host, port
        self.bd_seq = bd_seq
        self.seq = 0
        self.births = 0
        self.rebirth_requests = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._latest = line.step() if latest is None else latest
        chosen = [mid for mid in line.machine_ids() if machines is None or mid in machines]
        self.devices = {mid.split("/", 1)[1]: mid for mid in chosen}
        self.aliases = {mid: {s: i + 1 for i, s in enumerate([*line.signals(mid), STATE_TAG])} for mid in chosen}
        self._sent: dict[str, datetime] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"lw-edge-{group_id}-{edge_node}")
        self.client.will_set(self.topic("NDEATH"), self._ndeath(), qos=1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 2)
        self._thread = threading.Thread(target=self._run, name="sparkplug-edge", daemon=True)

    def topic(self, kind: str, device: str | None = None) -> str:
        return f"{NS}/{self.group_id}/{kind}/{self.edge_node}" + (f"/{device}" if device else "")

    def _ndeath(self) -> bytes:
        payload = pb.Payload(timestamp=_ms())
        payload.metrics.add(name="bdSeq", datatype=pb.Int64, long_value=self.bd_seq)
        return payload.SerializeToString()

    def _next_seq(self) -> int:
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    def publish_births(self) -> None:
        """NBIRTH then one DBIRTH per machine, with names, aliases and current values."""
        with self._lock:
            self.seq = 0
            node = pb.Payload(timestamp=_ms(), seq=self._next_seq())
            node.metrics.add(name="bdSeq", datatype=pb.Int64, long_value=self.bd_seq)
            node.metrics.add(name="Node Control/Rebirth", datatype=pb.Boolean, boolean_value=False)
            self.client.publish(self.topic("NBIRTH"), node.SerializeToString(), qos=0)
            for device, mid in self.devices.items():
                payload = pb.Payload(timestamp=_ms(), seq=self._next_seq())
                sample = self._latest.get(mid)
                for signal, alias in self.aliases[mid].items():
                    self._metric(payload, sample, signal, alias, name=signal)
                self.client.publish(self.topic("DBIRTH", device), payload.SerializeToString(), qos=0)
                if sample is not None:
                    self._sent[mid] = sample.ts
            self.births += 1

    @staticmethod
    def _metric(payload: pb.Payload, sample: TelemetrySample | None, signal: str, alias: int,
                name: str = "") -> None:
        """One metric of ``sample``; null (typed) before the machine's first sample."""
        metric = payload.metrics.add(alias=alias, timestamp=_ms(sample.ts if sample else None))
        if name:
            metric.name = name
        if sample is None:
            metric.datatype, metric.is_null = (pb.Int32 if signal == STATE_TAG else pb.Double), True
            return
        if signal == STATE_TAG:
            metric.datatype, metric.int_value = pb.Int32, state_code(sample)
            return
        metric.datatype = pb.Double
        value = sample.signals.get(signal)
        if value is None:
            metric.is_null = True
        else:
            metric.double_value = float(value)

    def publish_data(self, latest: dict[str, TelemetrySample] | None = None) -> None:
        """One DDATA per machine whose sample changed (aliases only); steps the line unless given ``latest``."""
        with self._lock:
            self._latest = self.line.step() if latest is None else latest
            for device, mid in self.devices.items():
                sample = self._latest.get(mid)
                if sample is None or self._sent.get(mid) == sample.ts:
                    continue
                payload = pb.Payload(timestamp=_ms(sample.ts), seq=self._next_seq())
                for signal, alias in self.aliases[mid].items():
                    self._metric(payload, sample, signal, alias)
                self.client.publish(self.topic("DDATA", device), payload.SerializeToString(), qos=0)
                self._sent[mid] = sample.ts

    def skip_sequence(self, n: int = 3) -> None:
        """Fault injection for tests: jump the sequence number as if messages were lost."""
        with self._lock:
            self.seq = (self.seq + n) % 256

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        client.subscribe(self.topic("NCMD"), qos=1)
        self.publish_births()

    def _on_message(self, client, userdata, msg) -> None:
        try:
            payload = pb.Payload.FromString(msg.payload)
        except Exception:  # noqa: BLE001 - a bad command is ignored, not fatal
            return
        if any(m.name == "Node Control/Rebirth" and m.boolean_value for m in payload.metrics):
            self.rebirth_requests += 1
            self.publish_births()

    def start(self, drive: bool = True) -> SparkplugEdgeNode:
        """Connect (in the background); ``drive``: step the line every period in a thread of its own."""
        self.client.connect_async(self.host, self.port, keepalive=5)
        self.client.loop_start()
        if drive:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            if self.client.is_connected():
                self.publish_data()

    def stop(self) -> None:
        """Publish the NDEATH (a clean stop sends no will) and disconnect."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self.client.is_connected():
            self.client.publish(self.topic("NDEATH"), self._ndeath(), qos=1).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
        time.sleep(0)
