"""Prometheus metrics of the connectors (labels: protocol, source name, topic; never machines)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


@dataclass
class ConnectorMetrics:
    """One set per registry; tests pass a private ``CollectorRegistry``."""

    tag_updates: Counter
    samples: Counter
    events: Counter
    signal_faults: Counter
    errors: Counter
    reconnects: Counter
    connected: Gauge
    buffer_records: Gauge
    buffer_dropped: Counter
    forwarded: Counter
    kafka_up: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> ConnectorMetrics:
        return cls(
            tag_updates=Counter("linewatch_connector_tag_updates_total",
                                "Tag values received, by outcome (accepted, deadband, unknown_tag, bad_value).",
                                ["protocol", "outcome"], registry=registry),
            samples=Counter("linewatch_connector_samples_total", "Telemetry samples produced.",
                            ["protocol"], registry=registry),
            events=Counter("linewatch_connector_events_total", "PLC events produced (plc_alarm edges, state_changed).",
                           ["protocol", "kind"], registry=registry),
            signal_faults=Counter("linewatch_connector_signal_faults_total",
                                  "Signals flagged uncertain by the signal-quality check, by fault "
                                  "(stuck, out_of_range, spike, noisy, missing).", ["fault"], registry=registry),
            errors=Counter("linewatch_connector_errors_total",
                           "Errors by kind (connect, read, subscribe, decode, unknown_tag, sequence_gap).",
                           ["protocol", "kind"], registry=registry),
            reconnects=Counter("linewatch_connector_reconnects_total", "Successful reconnections to a source.",
                               ["source"], registry=registry),
            connected=Gauge("linewatch_connector_source_connected", "1 while the source is connected.",
                            ["source"], registry=registry),
            buffer_records=Gauge("linewatch_connector_buffer_records", "Records waiting in the disk buffer.",
                                 registry=registry),
            buffer_dropped=Counter("linewatch_connector_buffer_dropped_total",
                                   "Records dropped because the disk buffer was full (policy drop_oldest).",
                                   registry=registry),
            forwarded=Counter("linewatch_connector_forwarded_total", "Records acknowledged by Kafka.",
                              ["topic"], registry=registry),
            kafka_up=Gauge("linewatch_connector_kafka_up", "1 while Kafka acknowledges the forwarder's writes.",
                           registry=registry),
        )
