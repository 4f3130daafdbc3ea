"""Prometheus metrics of the scoring worker (no per-machine labels)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from runtime.metrics import PipelineMetrics

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)


@dataclass
class ScoringMetrics:
    """Pipeline metrics (messages by outcome, batch time, lag) plus the scorer's own."""

    registry: CollectorRegistry
    pipeline: PipelineMetrics
    outcomes: Counter
    scores: Counter
    alerts: Counter
    latency: Histogram
    model: Gauge
    rebuild_records: Counter
    restarts: Counter
    signal_faults: Counter
    unknown_signals: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> ScoringMetrics:
        """All metrics on ``registry`` (a fresh private one by default; serve it with
        ``prometheus_client.start_http_server(port, registry=metrics.registry)``)."""
        registry = registry if registry is not None else CollectorRegistry()
        return cls(
            registry=registry,
            pipeline=PipelineMetrics.create(registry),
            outcomes=Counter("linewatch_scoring_records_total", "Telemetry records by outcome: ok, sensor_fault, "
                             "duplicate, out_of_order, time_jump, reanchored, unknown_machine, replayed, rejected.",
                             ["outcome"], registry=registry),
            scores=Counter("linewatch_scoring_scores_total", "Health scores stored and published.", registry=registry),
            alerts=Counter("linewatch_scoring_alert_events_total", "Alert events by action.", ["action"],
                           registry=registry),
            latency=Histogram("linewatch_scoring_end_to_end_latency_seconds",
                              "Sample published to Kafka -> its score stored and published.",
                              registry=registry, buckets=LATENCY_BUCKETS),
            model=Gauge("linewatch_scoring_model_info", "Champion model in use (value 1) per machine kind.",
                        ["kind", "version"], registry=registry),
            rebuild_records=Counter("linewatch_scoring_rebuild_records_total",
                                    "Records replayed from Kafka to rebuild state after an assignment.",
                                    registry=registry),
            restarts=Counter("linewatch_scoring_restarts_total", "Internal restarts after an error.",
                             registry=registry),
            signal_faults=Counter("linewatch_scoring_signal_faults_total", "Absurd values treated as missing, "
                                  "per plant-file signal.", ["signal"], registry=registry),
            unknown_signals=Counter("linewatch_scoring_unknown_signals_total", "Signals of known machines that "
                                    "are not sensors of that machine in the plant file (not scored).",
                                    registry=registry),
        )
