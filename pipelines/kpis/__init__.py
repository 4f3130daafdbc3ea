"""The pure KPI engine: ISO 22400-2 KPIs and baseline improvements from the event stream only.

Public API::

    from pipelines.kpis import compute_kpis, improvements, KpiPrices, KpiOptions
    by_line = compute_kpis(events, alerts=alerts, start=t0, end=t1, scope="line")
    figures = improvements(base=baseline_kpis, now=by_line["line-1"], baseline="2026-01 baseline")

Imports no Kafka, database or simulator code (tests/unit/test_import_direction.py).
"""

from pipelines.kpis.events import EventFrames, KpiInputError, event_frames
from pipelines.kpis.improvements import TARGETS, Improvement, improvements, relative_change
from pipelines.kpis.kpis import Kpis, compute_kpis, compute_scopes, plant_kpis
from pipelines.kpis.prices import KpiOptions, KpiPrices

__all__ = ["TARGETS", "EventFrames", "Improvement", "KpiInputError", "KpiOptions", "KpiPrices", "Kpis",
           "compute_kpis", "compute_scopes", "event_frames", "improvements", "plant_kpis", "relative_change"]
