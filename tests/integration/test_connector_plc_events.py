"""PLC alarms and states as events, against a real asyncua server laid out like a Siemens S7-1500
(quoted DB ids, its namespace at an index other than the documented one) and real Kafka.

Acceptance (issue 16): a Boolean alarm toggle produces exactly one ``plc_alarm`` event per edge."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
import yaml
from asyncua import Server, ua
from test_connector_support import connector, read_until, stop_all, wait_for
from typer.testing import CliRunner

from contracts.messages import MachineState
from contracts.topics import EVENTS
from runtime import broker
from services.cli.connect import app as connect_app

pytestmark = pytest.mark.integration
URI = "urn:siemens:s7-1500:line1"
MACHINE = "line-1/cnc-01"


class S7LikeServer:
    """An asyncua server in its own thread and loop; ``write`` sets a node's value from the test."""

    def __init__(self) -> None:
        self.port = broker.free_port()
        self.loop = asyncio.new_event_loop()
        self.nodes: dict[str, object] = {}
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/s7/")
        # two other namespaces first: the PLC's own ends up at index 4, not the "documented" 3
        await server.register_namespace("urn:vendor:diagnostics")
        await server.register_namespace("urn:vendor:other")
        ns = await server.register_namespace(URI)
        db = await server.nodes.objects.add_object(ua.NodeId('"DB_Line1"', ns), "DB_Line1")
        for name, value, vtype in (("Alarms.CoolantLow", False, ua.VariantType.Boolean),
                                   ("State", 1, ua.VariantType.Int16),
                                   ("Coolant.Pressure", 47.300000000000004, ua.VariantType.Double)):
            ident = '"DB_Line1".' + ".".join(f'"{p}"' for p in name.split("."))
            self.nodes[name] = await db.add_variable(ua.NodeId(ident, ns), name, ua.Variant(value, vtype))
        self.ns = ns
        self._stop = asyncio.Event()
        async with server:
            self._ready.set()
            await self._stop.wait()

    def start(self) -> S7LikeServer:
        self._thread.start()
        # asyncua builds the whole standard address space at init: slow on a loaded machine
        assert self._ready.wait(180), "OPC UA server did not start within 180 s"
        assert self.error is None, f"OPC UA server failed: {self.error!r}"
        return self

    def write(self, name: str, value: object, vtype: ua.VariantType) -> None:
        node = self.nodes[name]
        asyncio.run_coroutine_threadsafe(node.write_value(ua.Variant(value, vtype)), self.loop).result(10)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


def mapping(port: int) -> str:
    return f"""
version: 1
sources:
  - name: s7
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:{port}/s7/
    publishing_interval_ms: 100
    sampling_interval_ms: 50
    tags:
      - node: 'nsu={URI};s="DB_Line1"."Alarms"."CoolantLow"'
        machine: {MACHINE}
        signal: coolant_low_alarm
        kind: alarm
        alarms: {{0: {{code: E101, text_en: Coolant level low, text_zh: 冷却液液位低, severity: high}}}}
      - node: 'nsu={URI};s="DB_Line1"."State"'
        machine: {MACHINE}
        signal: machine_state
        kind: state
        states: {{0: idle, 1: running, 2: down}}
      - {{node: 'nsu={URI};s="DB_Line1"."Coolant"."Pressure"', machine: {MACHINE}, signal: coolant_pressure_bar,
          precision: 2}}
"""


def test_alarm_edges_state_changes_and_nsu_ids(kafka_settings, unique, tmp_path: Path) -> None:
    server = S7LikeServer().start()
    assert server.ns == 4
    events_topic, topic = unique("events"), unique("telemetry")
    conn = connector(tmp_path, kafka_settings, mapping(server.port), topic)
    conn.sink.events_topic = events_topic
    from runtime.admin import ensure_topics
    ensure_topics(kafka_settings, [events_topic], partitions=3)
    runner = conn.runners[0]
    conn.start()
    try:
        wait_for(lambda: runner.subscribed_items == 3, 60, "3 monitored items via nsu= ids")
        read_until(kafka_settings, topic, lambda s: any(x.signals for x in s), 30)
        toggles = [True, False, True, False, True]
        for value in toggles:
            server.write("Alarms.CoolantLow", value, ua.VariantType.Boolean)
            read_until(kafka_settings, topic, lambda s: False, 0.6)  # several publish cycles per level
        server.write("State", 2, ua.VariantType.Int16)
        events = read_until(kafka_settings, events_topic, lambda e: len(e) >= 6, 30, decode=EVENTS.decode)
        events = read_until(kafka_settings, events_topic, lambda e: False, 3, decode=EVENTS.decode)  # none late
        samples = read_until(kafka_settings, topic, lambda s: False, 2)
    finally:
        stop_all(conn.stop, server.stop)
    alarms = [e for e in events if e.kind == "plc_alarm"]
    assert [a.active for a in alarms] == toggles, "exactly one plc_alarm event per edge"
    assert all((a.code, a.text, a.text_zh, a.severity) == ("E101", "Coolant level low", "冷却液液位低", "high")
               for a in alarms)
    assert len({a.event_id for a in alarms}) == len(alarms)
    states = [e for e in events if e.kind == "state_changed"]
    assert [(s.from_state, s.to_state) for s in states] == [(MachineState.RUNNING, MachineState.DOWN)]
    pressures = {s.signals.get("coolant_pressure_bar") for s in samples if s.signals}
    assert pressures == {47.3}, "scaled value rounded to the tag's precision"
    assert all("coolant_low_alarm" not in s.signals for s in samples), "alarms are events, not telemetry"


def test_browse_lists_full_quoted_ids_and_the_skeleton_round_trips() -> None:
    server = S7LikeServer().start()
    try:
        endpoint = f"opc.tcp://127.0.0.1:{server.port}/s7/"
        runner = CliRunner()
        as_json = runner.invoke(connect_app, ["browse", endpoint, "--json"])
        table = runner.invoke(connect_app, ["browse", endpoint], terminal_width=80)
        skeleton = runner.invoke(connect_app, ["browse", endpoint, "--skeleton"])
    finally:
        server.stop()
    assert as_json.exit_code == 0, as_json.output
    ids = {v["node_id"] for v in json.loads(as_json.output)}
    want = 'ns=4;s="DB_Line1"."Coolant"."Pressure"'
    assert want in ids
    assert table.exit_code == 0 and want in table.output  # whole, on an 80-column terminal
    tags = yaml.safe_load(skeleton.output)["sources"][0]["tags"]
    assert want in {t["node"] for t in tags} and len(tags) == 3
