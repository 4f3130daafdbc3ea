"""Sparkplug B host-side session state: births, aliases, sequence numbers, deaths.

Pure: fed with (MQTT topic, payload bytes), it returns what happened. The connector
does the I/O (MQTT, Kafka). Rules follow Eclipse Sparkplug 3.0: topics
``spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|DBIRTH|DDATA|DDEATH>/<edge node>[/<device>]``;
``seq`` runs 0..255 over every message of an edge node except NDEATH; an NDEATH counts
only if its ``bdSeq`` matches the one announced in the NBIRTH.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError

from contracts import sparkplug_b_pb2 as pb
from contracts.errors import ContractError
from contracts.messages import Quality
from services.connectors.core.mapping import SparkplugTag
from services.connectors.core.samples import sparkplug_quality

NAMESPACE = "spBv1.0"
REBIRTH_METRIC = "Node Control/Rebirth"
_SIGNED = {pb.Int8: 8, pb.Int16: 16, pb.Int32: 32, pb.Int64: 64}


@dataclass
class Outcome:
    """What one MQTT message meant for the host."""

    updates: list[tuple[SparkplugTag, Any, datetime, Quality]] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)
    rebirth: str | None = None  # edge node to send a rebirth request to
    unknown_metrics: list[str] = field(default_factory=list)
    gap: bool = False
    ignored: str | None = None


@dataclass
class _Node:
    bd_seq: int | None = None
    seq: int | None = None
    aliases: dict[tuple[str | None, int], str] = field(default_factory=dict)
    rebirth_pending: bool = False


def metric_value(metric: Any) -> Any:
    """The Python value of a metric, signed types decoded from their unsigned wire field."""
    if metric.is_null:
        return None
    kind = metric.WhichOneof("value")
    if kind is None:
        return None
    value = getattr(metric, kind)
    bits = _SIGNED.get(metric.datatype)
    if bits and isinstance(value, int):
        wire = 64 if kind == "long_value" else 32
        if value >= 1 << (wire - 1):
            value -= 1 << wire
        elif bits < wire and value >= 1 << (bits - 1) and value < 1 << bits:
            value -= 1 << bits  # some edge nodes send Int8/Int16 two's complement at their own width
    return value


def _quality(metric: Any) -> Quality:
    props = metric.properties
    for key, val in zip(props.keys, props.values, strict=False):
        if key.lower() == "quality":
            return sparkplug_quality(val.int_value if val.WhichOneof("value") == "int_value" else val.long_value)
    return Quality.GOOD


def _ts(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def rebirth_command(now: datetime | None = None) -> bytes:
    """NCMD payload asking an edge node to publish its births again."""
    stamp = int((now or datetime.now(UTC)).timestamp() * 1000)
    payload = pb.Payload(timestamp=stamp)
    payload.metrics.add(name=REBIRTH_METRIC, timestamp=stamp, datatype=pb.Boolean, boolean_value=True)
    return payload.SerializeToString()


class SparkplugSession:
    """Host application state for one Sparkplug group, mapped through the tags."""

    def __init__(self, group_id: str, tags: list[SparkplugTag]) -> None:
        self.group_id = group_id
        self._tags = {(t.edge_node, t.device, t.metric): t for t in tags}
        self._nodes: dict[str, _Node] = {}

    def machines_of(self, edge_node: str, device: str | None = None) -> list[str]:
        return sorted({t.machine for (n, d, _), t in self._tags.items()
                       if n == edge_node and (device is None or d == device)})

    def handle(self, topic: str, raw: bytes, now: datetime | None = None) -> Outcome:
        """Apply one message; undecodable payloads raise ``ContractError`` (the caller dead-letters them)."""
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != NAMESPACE or parts[1] != self.group_id:
            return Outcome(ignored=f"not a topic of group {self.group_id}: {topic}")
        kind, node_id = parts[2], parts[3]
        device = parts[4] if len(parts) > 4 else None
        if kind in ("NCMD", "DCMD"):
            return Outcome(ignored="command")
        try:
            payload = pb.Payload.FromString(raw)
        except (DecodeError, ValueError) as exc:
            raise ContractError(f"{topic}: undecodable Sparkplug B payload ({len(raw)} bytes): {exc}") from exc
        now = now or datetime.now(UTC)
        node = self._nodes.setdefault(node_id, _Node())
        if kind == "NDEATH":
            return self._death(node, node_id, payload)
        out = Outcome()
        if kind == "NBIRTH":
            node.aliases.clear()
            node.bd_seq = next((int(metric_value(m)) for m in payload.metrics if m.name == "bdSeq"), None)
            node.seq, node.rebirth_pending = payload.seq, False
        else:
            self._check_seq(node, node_id, payload, out)
        if kind in ("NBIRTH", "DBIRTH"):
            for m in payload.metrics:
                if m.name and m.HasField("alias"):
                    node.aliases[(device, m.alias)] = m.name
        if kind == "DDEATH":
            out.offline = self.machines_of(node_id, device)
            return out
        if kind in ("NBIRTH", "DBIRTH", "NDATA", "DDATA"):
            self._values(node, node_id, device, payload, now, out)
        return out

    def _check_seq(self, node: _Node, node_id: str, payload: Any, out: Outcome) -> None:
        if node.seq is None:  # data before any birth: aliases unknown, ask for births
            out.gap = True
        elif payload.seq != (node.seq + 1) % 256:
            out.gap = True
        node.seq = payload.seq
        if out.gap and not node.rebirth_pending:
            node.rebirth_pending = True
            out.rebirth = node_id

    def _death(self, node: _Node, node_id: str, payload: Any) -> Outcome:
        bd = next((int(metric_value(m)) for m in payload.metrics if m.name == "bdSeq"), None)
        if node.bd_seq is not None and bd is not None and bd != node.bd_seq:
            return Outcome(ignored=f"stale NDEATH of {node_id} (bdSeq {bd}, current {node.bd_seq})")
        node.seq, node.bd_seq = None, None
        node.aliases.clear()
        return Outcome(offline=self.machines_of(node_id))

    def _values(self, node: _Node, node_id: str, device: str | None, payload: Any, now: datetime,
                out: Outcome) -> None:
        base = _ts(payload.timestamp) or now
        for m in payload.metrics:
            name = m.name or (node.aliases.get((device, m.alias)) if m.HasField("alias") else None)
            if not name:
                out.unknown_metrics.append(f"{node_id}/{device or ''} alias {m.alias}")
                if not node.rebirth_pending:  # aliases lost: only a new birth can tell us the names
                    node.rebirth_pending, out.rebirth = True, node_id
                continue
            if name == "bdSeq" or name.startswith("Node Control/"):
                continue
            tag = self._tags.get((node_id, device, name))
            if tag is None:
                out.unknown_metrics.append(f"{node_id}/{device or ''}/{name}")
                continue
            out.updates.append((tag, metric_value(m), _ts(m.timestamp) or base, _quality(m)))
