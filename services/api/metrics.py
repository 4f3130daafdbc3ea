"""Prometheus metrics of the API, on a private registry per app (no per-machine labels)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class ApiMetrics:
    registry: CollectorRegistry
    request_seconds: Histogram
    store_errors: Counter
    alert_actions: Counter
    alerts_open: Gauge
    webhook_deliveries: Counter
    escalations: Counter
    read_cache: Counter

    @classmethod
    def create(cls) -> ApiMetrics:
        r = CollectorRegistry()
        return cls(
            registry=r,
            request_seconds=Histogram(
                "linewatch_api_request_duration_seconds", "HTTP request latency by route template.",
                ["method", "route", "status"], registry=r,
                buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)),
            store_errors=Counter("linewatch_api_store_errors_total", "Requests failed by the store.", registry=r),
            alert_actions=Counter("linewatch_api_alert_actions_total", "Operator actions on alerts.", ["action"],
                                  registry=r),
            alerts_open=Gauge("linewatch_api_alerts", "Alerts by ISA-18.2 state and priority (at scrape).",
                              ["state", "priority"], registry=r),
            webhook_deliveries=Counter("linewatch_api_webhook_deliveries_total", "Webhook delivery attempts.",
                                       ["outcome"], registry=r),
            escalations=Counter("linewatch_api_alert_escalations_total", "Alerts escalated for lack of ack.",
                                registry=r),
            read_cache=Counter("linewatch_api_read_cache_total",
                               "GET /plant and /alerts answers: from the read cache (hit), computed (miss), "
                               "cache off (off).", ["result"], registry=r),
        )
