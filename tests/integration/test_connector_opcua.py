"""OPC UA connector against a real asyncua server (the simulator's OPC UA face) and real Kafka."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_connector_support import Face, by_machine, connector, read_until, stop_all, wait_for

from contracts.messages import MachineState

pytestmark = pytest.mark.integration
MACHINES = ["line-b/m-0000", "line-b/m-0001", "line-b/m-0002"]


def mapping(port: int, per_call: int = 1000, extra: str = "") -> str:
    tags = "".join(
        f"""
      - {{node: "ns=2;s={m}/sensor00{j}_c", machine: {m}, signal: sensor00{j}_c, scale: 2.0, offset: 1.0}}"""
        for m in MACHINES for j in range(3))
    return f"""
version: 1
sources:
  - name: sim-opcua
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:{port}/linewatch/
    publishing_interval_ms: 100
    sampling_interval_ms: 50
    max_items_per_call: {per_call}
    tags:{tags}{extra}
"""


def test_values_scaled_chunked_and_survive_a_server_restart(kafka_settings, unique, tmp_path: Path) -> None:
    face = Face("opcua", "--grid", "3x3", "--pattern", "ramp", "--period", "0.2", "--max-items-per-call", "4")
    face.start()
    topic = unique("telemetry")
    bogus = """
      - {node: "ns=2;s=no/such/node", machine: line-b/m-0009, signal: sensor000_c}"""
    conn = connector(tmp_path, kafka_settings, mapping(face.port, extra=bogus), topic)
    runner = conn.runners[0]
    conn.start()
    try:
        wait_for(lambda: runner.subscribed_items == 9, 60, "9 monitored items")
        # server limit 4 per call: 10 items (9 + the unknown node) need 3 calls
        assert runner.chunk_calls == 3
        assert conn.registry.get_sample_value("linewatch_connector_errors_total",
                                              {"protocol": "opcua", "kind": "unknown_tag"}) == 1
        first = read_until(kafka_settings, topic, lambda s: len(s) >= 15, 30)
        face.stop()
        wait_for(lambda: conn.registry.get_sample_value("linewatch_connector_source_connected",
                                                        {"source": "sim-opcua"}) == 0, 20, "loss detected")
        face.start()  # same port: the "PLC" comes back
        wait_for(lambda: (conn.registry.get_sample_value("linewatch_connector_reconnects_total",
                                                         {"source": "sim-opcua"}) or 0) >= 1, 60, "reconnect")
        count = len(read_until(kafka_settings, topic, lambda s: False, 3))
        samples = read_until(kafka_settings, topic, lambda s: len(s) >= count + 15, 30)
    finally:
        stop_all(conn.stop, face.stop)
    assert first, "no telemetry before the restart"
    per_machine = by_machine(samples)
    # the unmapped node's machine never gets a value, only OFFLINE marks when the server goes away
    assert all(s.state == MachineState.OFFLINE for s in per_machine.pop("line-b/m-0009", []))
    assert set(per_machine) == set(MACHINES)
    for mid, items in per_machine.items():
        assert [s.seq for s in items] == list(range(len(items))), f"{mid}: seq not contiguous"
        offline = [s for s in items if s.state == MachineState.OFFLINE]
        assert offline, f"{mid}: no OFFLINE sample while the server was down"
        after = items[items.index(offline[-1]) + 1:]
        assert len(after) >= 3 and len(after[-1].signals) == 3, f"{mid}: no full data after the server restart"
        for s in items:
            if s.state == MachineState.OFFLINE:
                continue
            assert s.source == "opcua"
            assert set(s.signals) <= {"sensor000_c", "sensor001_c", "sensor002_c"}
            for value in s.signals.values():
                raw = (value - 1.0) / 2.0  # the face publishes the tick number; mapping: 2x + 1
                assert raw == pytest.approx(round(raw)) and raw >= 1
