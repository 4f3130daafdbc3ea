"""Prometheus metrics of the Kafka runtime (one set per registry, never per machine)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class PipelineMetrics:
    messages: Counter
    batch_seconds: Histogram
    lag: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> PipelineMetrics:
        return cls(
            messages=Counter("linewatch_pipeline_messages_total", "Records handled by outcome.",
                             ["stage", "outcome"], registry=registry),
            batch_seconds=Histogram("linewatch_pipeline_batch_seconds", "Time to process one polled batch.",
                                    ["stage"], registry=registry,
                                    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)),
            lag=Gauge("linewatch_pipeline_consumer_lag_messages", "Records behind the log end, summed.",
                      ["stage"], registry=registry),
        )


_default: PipelineMetrics | None = None


def default_metrics() -> PipelineMetrics:
    """The process-wide metrics on the default registry (created once)."""
    global _default
    if _default is None:
        _default = PipelineMetrics.create()
    return _default
