"""ISO 22400-2 style KPIs from pooled totals, per machine, line or plant over a time range."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from pipelines.kpis.events import EventFrames, KpiInputError, as_utc, event_frames
from pipelines.kpis.prices import KpiOptions, KpiPrices
from pipelines.kpis.totals import Totals, by_machine, machine_totals

Scope = Literal["machine", "line", "plant"]


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


class Kpis(BaseModel):
    """KPIs of one scope (a machine, a line or the plant) over one time range.

    ``None`` means "not defined for this data" (e.g. MTBF with no failure), never zero.
    ``totals`` holds the additive inputs so anyone can recompute every ratio.
    """

    model_config = ConfigDict(frozen=True)

    scope: Scope
    scope_id: str
    start: datetime
    end: datetime
    currency: str
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    mtbf_hours: float | None
    mttr_hours: float | None
    unplanned_downtime_hours: float
    planned_downtime_hours: float
    parts: int
    good_parts: int
    defect_rate: float | None
    energy_kwh: float
    energy_per_good_part_kwh: float | None
    energy_utilisation_parts_per_kwh: float | None
    failures: int
    maintenance_parts_cost: float
    maintenance_labour_cost: float
    lost_production_cost: float
    maintenance_cost: float
    energy_cost: float
    scrap_cost: float
    operating_cost: float
    alerts_raised: int
    alert_precision: float | None
    alert_recall: float | None
    alert_lead_time_median_hours: float | None
    false_alerts_per_machine_week: float | None
    totals: dict[str, Any]


def _costs(t: Totals, prices: KpiPrices) -> dict[str, float]:
    labour = t.maintenance_work_s / 3600.0 * prices.technicians_per_job * prices.labour_per_hour
    lost = t.lost_parts * prices.lost_production_per_part
    maintenance = t.parts_cost + labour + lost
    energy = t.energy_kwh * prices.energy_per_kwh
    scrap = (t.parts - t.good_parts) * prices.scrap_per_defect
    return {"maintenance_parts_cost": t.parts_cost, "maintenance_labour_cost": labour,
            "lost_production_cost": lost, "maintenance_cost": maintenance, "energy_cost": energy,
            "scrap_cost": scrap, "operating_cost": maintenance + energy + scrap}


def _oee(t: Totals, options: KpiOptions) -> dict[str, float | None]:
    busy = t.range_s - t.offline_s - (0.0 if options.planned_downtime_in_busy_time else t.maintenance_s)
    availability = _ratio(t.running_s, busy)
    performance = _ratio(t.ideal_output_s, t.running_s)
    quality = _ratio(t.good_parts, t.parts)
    oee: float | None = None
    if availability is not None and performance is not None and quality is not None:
        oee = availability * performance * quality
    return {"availability": availability, "performance": performance, "quality": quality, "oee": oee}


def from_totals(t: Totals, scope: Scope, scope_id: str, start: pd.Timestamp, end: pd.Timestamp,
                prices: KpiPrices, options: KpiOptions) -> Kpis:
    """KPIs from pooled totals; see docs/kpis.md for every definition."""
    false_alerts = t.alerts_raised - t.alerts_true
    machine_weeks = t.machines * t.range_s / (7 * 86400.0) if t.machines else 0.0
    totals = {k: v for k, v in vars(t).items() if k != "lead_times_h"}
    totals["lead_times_h"] = sorted(round(x, 4) for x in t.lead_times_h)
    return Kpis(
        scope=scope, scope_id=scope_id, start=start.to_pydatetime(), end=end.to_pydatetime(),
        currency=prices.currency, **_oee(t, options),
        mtbf_hours=_ratio(t.running_s / 3600.0, t.failures),
        mttr_hours=_ratio(t.down_s / 3600.0, t.failures),
        unplanned_downtime_hours=t.down_s / 3600.0, planned_downtime_hours=t.maintenance_s / 3600.0,
        parts=t.parts, good_parts=t.good_parts, defect_rate=_ratio(t.parts - t.good_parts, t.parts),
        energy_kwh=t.energy_kwh, energy_per_good_part_kwh=_ratio(t.energy_kwh, t.good_parts),
        energy_utilisation_parts_per_kwh=_ratio(t.good_parts, t.energy_kwh), failures=t.failures,
        **_costs(t, prices), alerts_raised=t.alerts_raised,
        alert_precision=_ratio(t.alerts_true, t.alerts_raised),
        alert_recall=_ratio(t.failures_alerted, t.failures),
        alert_lead_time_median_hours=statistics.median(t.lead_times_h) if t.lead_times_h else None,
        false_alerts_per_machine_week=_ratio(false_alerts, machine_weeks), totals=totals)


def _key(machine_id: str, scope: Scope) -> str:
    if scope == "machine":
        return machine_id
    return machine_id.split("/")[0] if scope == "line" else "plant"


def _time_range(frames: EventFrames, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    stamps = pd.concat([f["ts"] for f in (frames.parts, frames.failures, frames.maintenance, frames.states)])
    lo = as_utc(start) if start is not None else (stamps.min() if not stamps.empty else None)
    hi = as_utc(end) if end is not None else (stamps.max() + pd.Timedelta(microseconds=1) if not stamps.empty else None)
    if lo is None or hi is None:
        raise KpiInputError("no events and no time range: give start and end")
    if hi <= lo:
        raise KpiInputError(f"end ({hi.isoformat()}) must be after start ({lo.isoformat()})")
    return lo, hi


def compute_kpis(events: Any, *, alerts: Any = None, start: Any = None, end: Any = None,
                 scope: Scope = "plant", machines: list[str] | None = None,
                 prices: KpiPrices | None = None, options: KpiOptions | None = None) -> dict[str, Kpis]:
    """KPIs per ``scope`` id over [start, end) from the event stream only.

    ``events``: contract messages (``PartCompleted``, ``FailureOccurred``, ``MaintenanceDone``,
    ``StateChanged``; ``AlertEvent`` may be mixed in) or an events-table DataFrame
    (docs/data-format.md). ``start``/``end`` default to the span of the events. ``machines``
    lists machines that count even without events (an idle machine still has a time base).
    Returns ``{scope_id: Kpis}`` sorted by id: ``"plant"``, a line id or a machine id.
    """
    return compute_scopes(events, scopes=(scope,), alerts=alerts, start=start, end=end, machines=machines,
                          prices=prices, options=options)


def compute_scopes(events: Any, *, scopes: tuple[Scope, ...] = ("plant", "line", "machine"), alerts: Any = None,
                   start: Any = None, end: Any = None, machines: list[str] | None = None,
                   prices: KpiPrices | None = None, options: KpiOptions | None = None) -> dict[str, Kpis]:
    """Like :func:`compute_kpis` for several scopes at once; each machine's totals are computed once.

    ``events`` may also be an ``EventFrames`` from :func:`event_frames` (convert once, query many times).
    """
    bad = [s for s in scopes if s not in ("machine", "line", "plant")]
    if bad:
        raise KpiInputError(f"scope must be machine, line or plant, not {bad[0]!r}")
    prices, options = prices or KpiPrices(), options or KpiOptions()
    frames = event_frames(events, alerts)
    lo, hi = _time_range(frames, start, end)
    ids = sorted(set(frames.machines()) | set(machines or []))
    per_machine = {m: machine_totals(f, lo, hi, options) for m, f in by_machine(frames, ids).items()}
    out: dict[str, Kpis] = {}
    for scope in scopes:
        pooled: dict[str, Totals] = {}
        for machine_id, totals in per_machine.items():
            key = _key(machine_id, scope)
            pooled[key] = pooled.get(key, Totals()) + totals
        out.update({key: from_totals(t, scope, key, lo, hi, prices, options) for key, t in sorted(pooled.items())})
    return out


def plant_kpis(events: Any, **kwargs: Any) -> Kpis:
    """The plant-wide KPIs (a shortcut for ``compute_kpis(..., scope="plant")["plant"]``)."""
    result = compute_kpis(events, scope="plant", **kwargs)
    if "plant" not in result:
        raise KpiInputError("no machine in the events or in 'machines'")
    return result["plant"]
