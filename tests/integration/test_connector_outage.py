"""Kafka stops (about a minute, restart included) while OPC UA, Sparkplug B and Modbus sources keep producing:
everything is buffered on disk and forwarded after recovery, nothing lost, order kept."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from test_connector_support import Face, Mosquitto, by_machine, connector, read_until, stop_all, wait_for

from runtime import broker
from simulators.plc.lines import SyntheticLine
from simulators.plc.sparkplug_face import SparkplugEdgeNode

pytestmark = pytest.mark.integration
OUTAGE_S = 10  # plus the broker restart itself (~15-45 s here): about a minute without Kafka


def _kill_broker(info: broker.BrokerInfo) -> None:
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if os.waitpid(info.pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.2)
    os.kill(info.pid, signal.SIGKILL)


def mapping(opcua_port: int, mqtt_port: int, modbus_port: int) -> str:
    return f"""
sources:
  - name: ua
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:{opcua_port}/linewatch/
    publishing_interval_ms: 200
    sampling_interval_ms: 100
    tags:
      - {{node: "ns=2;s=line-b/m-0000/sensor000_c", machine: line-b/m-0000, signal: sensor000_c}}
  - name: spb
    protocol: sparkplug
    port: {mqtt_port}
    group_id: outage
    tags:
      - {{edge_node: line-s, device: cnc-01, metric: sensor000_c, machine: line-s/cnc-01, signal: sensor000_c}}
  - name: mb
    protocol: modbus
    host: 127.0.0.1
    port: {modbus_port}
    poll_interval_ms: 200
    tags:
      - {{machine: line-b/m-0001, signal: sensor000_c, unit_id: 2, address: 0, type: float32}}
"""


def test_kafka_outage_is_buffered_and_forwarded_in_order(kafka, kafka_settings, unique, tmp_path: Path) -> None:
    opcua = Face("opcua", "--grid", "1x1", "--pattern", "ramp", "--period", "0.2").start()
    modbus = Face("modbus", "--grid", "2x1", "--pattern", "ramp", "--period", "0.2").start()
    mqtt = Mosquitto(tmp_path / "mqtt").start()
    edge = SparkplugEdgeNode(SyntheticLine({"line-s/cnc-01": ["sensor000_c"]}, "ramp", period_s=0.2),
                             "127.0.0.1", mqtt.port, "outage", "line-s", period_s=0.2).start()
    topic = unique("telemetry")
    conn = connector(tmp_path, kafka_settings, mapping(opcua.port, mqtt.port, modbus.port), topic)
    conn.start()
    machines = {"line-b/m-0000", "line-s/cnc-01", "line-b/m-0001"}
    try:
        read_until(kafka_settings, topic, lambda s: {x.machine_id for x in s} == machines, 40)
        info = broker.status(Path(kafka.work))
        _kill_broker(info)
        produced_before = conn.registry.get_sample_value("linewatch_connector_samples_total", {"protocol": "opcua"})
        time.sleep(OUTAGE_S)
        buffered = len(conn.buffer)
        assert conn.registry.get_sample_value("linewatch_connector_kafka_up") == 0
        assert conn.registry.get_sample_value("linewatch_connector_samples_total",
                                              {"protocol": "opcua"}) > produced_before + 20
        began = time.monotonic()
        broker.restart_same_ports(info)
        restarted = time.monotonic()
        wait_for(lambda: len(conn.buffer) == 0, 90, "the disk buffer to drain")
        print(f"broker restart {restarted - began:.1f}s, drain {time.monotonic() - restarted:.1f}s, "
              f"{buffered} records buffered")
        conn.stop()
        samples = read_until(kafka_settings, topic, lambda s: False, 8)
    finally:
        stop_all(conn.stop, edge.stop, mqtt.stop, opcua.stop, modbus.stop)
    assert buffered >= 3 * (OUTAGE_S // 2), f"only {buffered} records were buffered during the outage"
    assert conn.registry.get_sample_value("linewatch_connector_buffer_dropped_total") == 0
    per_machine = by_machine(samples)
    assert set(per_machine) == machines
    for mid, items in per_machine.items():
        seqs = [s.seq for s in items]
        first_seen = list(dict.fromkeys(seqs))  # at-least-once: a resend may repeat, never reorder
        assert first_seen == list(range(len(first_seen))), f"{mid}: samples lost or out of order"
        assert len(first_seen) > OUTAGE_S * 2, f"{mid}: only {len(first_seen)} samples"
