"""Sparkplug B connector against Mosquitto (scripts/mosquitto.sh), the simulator's edge node and Kafka."""

from __future__ import annotations

import base64
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from test_connector_support import Mosquitto, by_machine, connector, read_until, stop_all, wait_for

from contracts.messages import MachineState
from contracts.topics import DEADLETTER
from simulators.plc.lines import SyntheticLine
from simulators.plc.sparkplug_face import SparkplugEdgeNode

pytestmark = pytest.mark.integration
SIGNALS = ["sensor000_c", "sensor001_c", "sensor002_c"]
MACHINES = ["line-s/cnc-01", "line-s/cnc-02"]


def mapping(port: int) -> str:
    # sensor002_c is published by the edge node but deliberately not mapped: an unknown tag.
    tags = "".join(f"""
      - {{edge_node: line-s, device: {m.split('/')[1]}, metric: {s}, machine: {m}, signal: {s}, scale: 0.5}}"""
                   for m in MACHINES for s in SIGNALS[:2])
    return f"""
sources:
  - name: sim-sparkplug
    protocol: sparkplug
    host: 127.0.0.1
    port: {port}
    group_id: lwtest
    tags:{tags}
"""


def _state(conn, name: str, labels: dict[str, str]) -> float:
    return conn.registry.get_sample_value(name, labels) or 0


def test_sparkplug_births_aliases_gaps_garbage_restart_and_death(kafka_settings, unique, tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "mqtt").start()
    line = SyntheticLine({m: list(SIGNALS) for m in MACHINES}, "ramp", period_s=0.2)
    edge = SparkplugEdgeNode(line, "127.0.0.1", broker.port, "lwtest", "line-s", period_s=0.2)
    topic, dead = unique("telemetry"), unique("dead")
    conn = connector(tmp_path, kafka_settings, mapping(broker.port), topic, dead)
    runner = conn.runners[0]
    conn.start()
    try:
        wait_for(lambda: _state(conn, "linewatch_connector_source_connected", {"source": "sim-sparkplug"}) == 1,
                 20, "host connected")
        edge.start()
        read_until(kafka_settings, topic, lambda s: len(s) >= 10, 30)
        assert _state(conn, "linewatch_connector_tag_updates_total",
                      {"protocol": "sparkplug", "outcome": "unknown_tag"}) > 0
        # garbage on a data topic: dead-lettered with the reason, nothing else stops
        garbage = b"\xff\xfenot protobuf"
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        pub.connect("127.0.0.1", broker.port)
        pub.publish("spBv1.0/lwtest/DDATA/line-s/cnc-01", garbage, qos=1).wait_for_publish(5)
        pub.disconnect()
        letters = read_until(kafka_settings, dead, lambda s: len(s) >= 1, 20, decode=DEADLETTER.decode)
        # sequence gap -> the host asks for a rebirth, the node publishes its births again
        edge.skip_sequence(5)
        wait_for(lambda: edge.rebirth_requests >= 1 and edge.births >= 2, 20, "rebirth after a sequence gap")
        # the MQTT broker restarts mid-stream: machines go OFFLINE, then data flows again
        broker.stop()
        wait_for(lambda: _state(conn, "linewatch_connector_source_connected", {"source": "sim-sparkplug"}) == 0,
                 20, "host sees the broker gone")
        broker.start()
        wait_for(lambda: _state(conn, "linewatch_connector_reconnects_total", {"source": "sim-sparkplug"}) >= 1,
                 60, "host reconnects")
        count = len(read_until(kafka_settings, topic, lambda s: False, 2))
        read_until(kafka_settings, topic, lambda s: len(s) >= count + 10, 30)
        edge.stop()  # clean stop publishes NDEATH
        samples = read_until(kafka_settings, topic, lambda s: sum(
            x.state == MachineState.OFFLINE for x in s[count:]) >= 2, 20)
    finally:
        stop_all(conn.stop, lambda: edge.stop() if edge.client.is_connected() else None, broker.stop)
    assert len(letters) == 1 and base64.b64decode(letters[0].value_b64) == garbage
    assert "undecodable Sparkplug B payload" in letters[0].reason
    assert runner.rebirths_sent >= 1
    assert _state(conn, "linewatch_connector_errors_total", {"protocol": "sparkplug", "kind": "sequence_gap"}) >= 1
    per_machine = by_machine(samples)
    assert set(per_machine) == set(MACHINES)
    for mid, items in per_machine.items():
        assert [s.seq for s in items] == list(range(len(items)))
        states = [s.state for s in items]
        assert states[-1] == MachineState.OFFLINE, f"{mid}: NDEATH did not mark the machine offline"
        assert MachineState.OFFLINE in states[:-1], f"{mid}: broker restart did not mark it offline"
        first_off = states.index(MachineState.OFFLINE)
        assert MachineState.RUNNING in states[first_off:], f"{mid}: no data after the broker restart"
        for s in items:
            assert set(s.signals) <= set(SIGNALS[:2])
            for value in s.signals.values():
                assert (value * 2) == pytest.approx(round(value * 2))  # ticks scaled by 0.5
