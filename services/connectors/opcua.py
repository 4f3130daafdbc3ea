"""OPC UA source: subscriptions (monitored items in chunks the server accepts), polling fallback,
reconnect with backoff and re-subscription, security None / Sign / SignAndEncrypt + user/password."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from typing import Any

from asyncua import Client, ua
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, StatusChangeEvent
from asyncua.crypto import security_policies

from contracts.errors import ConfigError
from contracts.messages import Quality
from services.connectors.core.mapping import OpcUaSource, OpcUaTag
from services.connectors.core.samples import SampleAssembler, opcua_quality
from services.connectors.forwarder import Sink
from services.connectors.metrics import ConnectorMetrics
from services.connectors.pacing import sleep_unless, sleep_unless_any

log = logging.getLogger("linewatch.connectors.opcua")
LIMIT_NODES = {
    "monitored_items": ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
    "read": ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
}


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """Split into lists of at most ``size`` (a server's per-call limit)."""
    return [items[i:i + size] for i in range(0, len(items), max(1, size))]


async def server_limits(client: Client, cap: int) -> dict[str, int]:
    """The server's per-call operation limits (0 or unreadable = no limit), capped at ``cap``."""
    out = {}
    for name, ident in LIMIT_NODES.items():
        try:
            value = int(await client.get_node(ua.NodeId(ident, 0)).read_value() or 0)
        except Exception:  # noqa: BLE001 - optional nodes: many servers do not expose them
            value = 0
        out[name] = min(cap, value) if value > 0 else cap
    return out


async def apply_security(client: Client, cfg: OpcUaSource) -> None:
    sec = cfg.security
    client.application_uri = sec.application_uri
    if sec.username:
        password = os.environ.get(sec.password_env or "")
        if password is None:
            raise ConfigError(f"source {cfg.name}: environment variable {sec.password_env} (password) is not set")
        client.set_user(sec.username)
        client.set_password(password)
    if sec.mode != "None":
        policy = getattr(security_policies, f"SecurityPolicy{sec.policy}")
        await client.set_security(policy, str(sec.certificate), str(sec.private_key),
                                  server_certificate=str(sec.server_certificate) if sec.server_certificate else None,
                                  mode=getattr(ua.MessageSecurityMode, sec.mode))


async def _consume(sub: Any, runner: OpcUaRunner) -> None:
    """Iterator mode: notifications arrive through one queue. (The callback mode starts one
    asyncio task per value, which costs about 4x the CPU at thousands of tags per second.)"""
    async for event in sub:
        if isinstance(event, DataChangeEvent):
            dv = event.data.monitored_item.Value
            runner.on_value(event.node.nodeid, event.value, dv.SourceTimestamp or dv.ServerTimestamp, dv.StatusCode)
        elif isinstance(event, StatusChangeEvent):
            code = event.notification.Status
            if not (isinstance(code, ua.StatusCode) and code.is_good()):
                runner.lost.set()  # BadShutdown / BadTimeout: the session is gone


class OpcUaRunner:
    """Runs one OPC UA source until ``stop`` is set."""

    protocol = "opcua"

    def __init__(self, cfg: OpcUaSource, sink: Sink, metrics: ConnectorMetrics, seqs: dict[str, int]) -> None:
        self.cfg = cfg
        self.sink = sink
        self.metrics = metrics
        self.assembler = SampleAssembler("opcua", seqs)
        self.by_node: dict[ua.NodeId, list[OpcUaTag]] = {}
        self._parsed = [(tag, ua.NodeId.from_string(tag.node)) for tag in cfg.tags]
        self.unresolved: list[str] = []
        self._index_nodes({})
        self.lost = asyncio.Event()
        self.subscribed_items = 0
        self.chunk_calls = 0
        self.mode_used = cfg.mode
        self._consumer: asyncio.Task | None = None

    def _index_nodes(self, namespaces: dict[str, int]) -> None:
        """Tags by node id; ``nsu=<uri>;...`` ids get the index the server gives that URI now
        (its namespace table may be reordered by a firmware update or a restart)."""
        self.by_node, self.unresolved = {}, []
        for tag, node in self._parsed:
            uri = getattr(node, "NamespaceUri", None)
            if uri:
                if uri not in namespaces:
                    if namespaces:  # connected and the server does not know the URI
                        self.unresolved.append(tag.node)
                    continue
                node = ua.NodeId(node.Identifier, namespaces[uri], node.NodeIdType)
            self.by_node.setdefault(node, []).append(tag)

    async def resolve_namespaces(self, client: Client) -> None:
        """Read the server's namespace array and map every ``nsu=`` tag to today's index."""
        if not any(getattr(n, "NamespaceUri", None) for _, n in self._parsed):
            return
        array = await client.get_namespace_array()
        self._index_nodes({uri: i for i, uri in enumerate(array)})
        for node in self.unresolved:
            self.metrics.errors.labels("opcua", "unknown_tag").inc()
            log.error("%s: tag %s: namespace URI not in the server's namespace array %s; other tags continue",
                      self.cfg.name, node, array)

    def on_value(self, node_id: ua.NodeId, value: Any, ts: datetime | None, status: Any) -> None:
        quality = opcua_quality(int(getattr(status, "value", 0) or 0))
        stamp = ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts
        for tag in self.by_node.get(node_id, ()):
            number = _number(value) if quality != Quality.BAD else None
            if number is None and value is not None and quality != Quality.BAD:
                self.metrics.tag_updates.labels("opcua", "bad_value").inc()
                quality = Quality.BAD
            accepted = self.assembler.update(tag, number, stamp, quality)
            self.metrics.tag_updates.labels("opcua", "accepted" if accepted else "deadband").inc()

    def flush(self) -> None:
        self.sink.emit("opcua", self.assembler.flush(), self.assembler.events())

    async def run(self, stop: asyncio.Event) -> None:
        delay, connected_before = 1.0, False
        while not stop.is_set():
            client = Client(self.cfg.endpoint, timeout=self.cfg.timeout_s, watchdog_intervall=1.0)
            self.lost = asyncio.Event()

            async def _lost(exc: Exception) -> None:
                self.lost.set()

            client.connection_lost_callback = _lost
            try:
                await apply_security(client, self.cfg)
                await client.connect()
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - any connect failure: back off and retry
                self.metrics.errors.labels("opcua", "connect").inc()
                log.warning("%s: cannot connect to %s: %r; retry in %.0fs", self.cfg.name, self.cfg.endpoint,
                            exc, delay)
                await sleep_unless(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            if connected_before:
                self.metrics.reconnects.labels(self.cfg.name).inc()
            connected_before, delay = True, 1.0
            self.metrics.connected.labels(self.cfg.name).set(1)
            try:
                await self._session(client, stop)
            except Exception as exc:  # noqa: BLE001 - session broke: reconnect
                self.metrics.errors.labels("opcua", "session").inc()
                log.warning("%s: session ended: %r", self.cfg.name, exc)
            finally:
                self.metrics.connected.labels(self.cfg.name).set(0)
                await _quiet_disconnect(client)
            self.flush()
            if not stop.is_set():
                self.sink.emit("opcua", self.assembler.offline(sorted({t.machine for t in self.cfg.tags})))
                await sleep_unless(stop, delay)

    async def _session(self, client: Client, stop: asyncio.Event) -> None:
        limits = await server_limits(client, self.cfg.max_items_per_call)
        await self.resolve_namespaces(client)
        nodes = [client.get_node(n) for n in self.by_node]
        if self.cfg.mode == "subscribe":
            try:
                await self._subscribe(client, nodes, limits["monitored_items"])
                self.mode_used = "subscribe"
            except ua.UaStatusCodeError as exc:
                log.warning("%s: subscriptions refused (%s); polling instead", self.cfg.name, exc)
                self.metrics.errors.labels("opcua", "subscribe").inc()
                self.mode_used = "poll"
        else:
            self.mode_used = "poll"
        period = (self.cfg.publishing_interval_ms if self.mode_used == "subscribe"
                  else self.cfg.sampling_interval_ms or self.cfg.publishing_interval_ms) / 1000
        tick = min(0.1, period / 2) if self.mode_used == "subscribe" else period
        try:
            while not stop.is_set() and not self.lost.is_set():
                if self.mode_used == "poll":
                    await self._poll(client, nodes, limits["read"])
                if self._consumer is not None and self._consumer.done():
                    break  # the notification stream ended: reconnect
                self.flush()
                await sleep_unless_any(stop, self.lost, tick)
        finally:
            if self._consumer is not None:
                self._consumer.cancel()
                await asyncio.gather(self._consumer, return_exceptions=True)  # let it finish cancelling
                self._consumer = None

    async def _subscribe(self, client: Client, nodes: list[Any], per_call: int) -> None:
        # queue: several publish cycles of every item; overflow is logged (WARN), never silent
        sub = await client.create_subscription(self.cfg.publishing_interval_ms, None,
                                               queue_maxsize=max(10_000, 4 * len(nodes)),
                                               overflow=OverflowPolicy.WARN)
        self._consumer = asyncio.create_task(_consume(sub, self))
        self.subscribed_items, self.chunk_calls = 0, 0
        sampling = {n.nodeid: (self.by_node[n.nodeid][0].sampling_interval_ms or self.cfg.sampling_interval_ms)
                    for n in nodes}
        groups: dict[float, list[Any]] = {}
        for n in nodes:
            groups.setdefault(sampling[n.nodeid], []).append(n)
        for interval, members in groups.items():
            for part in chunks(members, per_call):
                results = await sub.subscribe_data_change(part, sampling_interval=interval)
                self.chunk_calls += 1
                for node, res in zip(part, results, strict=False):
                    if isinstance(res, ua.StatusCode):
                        self._bad_node(node.nodeid, res)
                    else:
                        self.subscribed_items += 1
        log.info("%s: %d monitored items in %d calls", self.cfg.name, self.subscribed_items, self.chunk_calls)

    def _bad_node(self, node_id: ua.NodeId, status: Any) -> None:
        tags = self.by_node.get(node_id, [])
        self.metrics.errors.labels("opcua", "unknown_tag").inc()
        log.error("%s: tag %s (%s) refused by the server: %s; other tags continue", self.cfg.name,
                  node_id.to_string(), ", ".join(f"{t.machine} {t.signal}" for t in tags), status)

    async def _poll(self, client: Client, nodes: list[Any], per_call: int) -> None:
        for part in chunks(nodes, per_call):
            params = ua.ReadParameters()
            params.NodesToRead = [ua.ReadValueId(NodeId=n.nodeid, AttributeId=ua.AttributeIds.Value) for n in part]
            params.TimestampsToReturn = ua.TimestampsToReturn.Both
            results = await client.uaclient.read(params)
            for node, dv in zip(part, results, strict=False):
                self.on_value(node.nodeid, dv.Value.Value if dv.Value is not None else None,
                              dv.SourceTimestamp or dv.ServerTimestamp, dv.StatusCode)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


async def _quiet_disconnect(client: Client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), timeout=3)
    except Exception:  # noqa: BLE001 - the server may already be gone
        pass
