"""Turn per-seed KPIs of each arm into the pilot report: intervals, paired improvements, targets."""

from __future__ import annotations

from typing import Any

from pipelines.kpis import TARGETS, Kpis, improvements
from services.pilot.stats import interval, seeds_needed

REPORTED = [
    "oee", "availability", "performance", "quality", "defect_rate", "energy_per_good_part_kwh",
    "energy_utilisation_parts_per_kwh", "good_parts", "failures", "unplanned_downtime_hours",
    "planned_downtime_hours", "mtbf_hours", "mttr_hours", "maintenance_cost", "energy_cost", "scrap_cost",
    "operating_cost", "alerts_raised", "alert_precision", "alert_recall", "alert_lead_time_median_hours",
    "false_alerts_per_machine_week",
]


def arm_summary(per_seed: dict[int, Kpis], confidence: float) -> dict[str, Any]:
    """KPIs of one arm: mean and interval over seeds, plus each seed's values."""
    seeds = sorted(per_seed)
    return {
        "kpis": {name: interval([getattr(per_seed[s], name) for s in seeds], confidence) for name in REPORTED},
        "per_seed": [{"seed": s, **{name: getattr(per_seed[s], name) for name in REPORTED},
                      "planned_actions": per_seed[s].totals.get("planned_actions", 0)} for s in seeds],
    }


def mode_summary(per_seed: dict[int, dict[str, dict[str, float]]], confidence: float) -> dict[str, Any]:
    """Per failure mode: mean and t interval over seeds of each per-mode figure."""
    seeds = sorted(per_seed)
    modes = sorted({m for s in seeds for m in per_seed[s]})
    return {m: {name: interval([per_seed[s][m][name] for s in seeds if m in per_seed[s]], confidence)
                for name in per_seed[seeds[0]][m]} for m in modes}


def paired_improvements(arm: str, baseline: str, now: dict[int, Kpis], base: dict[int, Kpis],
                        confidence: float, scope: str = "plant") -> list[dict[str, Any]]:
    """Improvement of ``arm`` over ``baseline`` per seed (a matched pair under common random numbers)."""
    seeds = sorted(set(now) & set(base))
    per_seed = {s: {i.name: i for i in improvements(base[s], now[s], baseline=baseline)} for s in seeds}
    out = []
    for name in per_seed[seeds[0]] if seeds else []:
        first = per_seed[seeds[0]][name]
        values = [per_seed[s][name].value for s in seeds]
        ci = interval(values, confidence)
        target = TARGETS.get(name)
        out.append({
            "arm": arm, "baseline": baseline, "scope": scope, "name": name, "formula": first.formula,
            "per_seed": [{"seed": s, "inputs": per_seed[s][name].inputs, "value": per_seed[s][name].value}
                         for s in seeds],
            **ci, "target": target,
            "met": None if target is None or ci["mean"] is None else ci["mean"] >= target,
            "met_with_confidence": None if target is None or ci["low"] is None else ci["low"] >= target,
            "verdict": _verdict(target, ci),
            "seeds_for_confidence": (seeds_needed(ci["sd"], abs(ci["mean"] - target), confidence)
                                     if target is not None and ci["sd"] and ci["mean"] is not None else None),
        })
    return out


def _verdict(target: float | None, ci: dict[str, Any]) -> str | None:
    """Plain words: "met with confidence", "not met with confidence (met on average)", "not met"."""
    if target is None:
        return None
    if ci["mean"] is None:
        return "no data"
    if ci["low"] is not None and ci["low"] >= target:
        return "met with confidence"
    return "not met with confidence (met on average)" if ci["mean"] >= target else "not met"


def targets_table(improvement_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The national targets, judged for the predictive arm against each baseline."""
    return [{k: row[k] for k in ("arm", "baseline", "name", "formula", "target", "mean", "low", "high", "n",
                                 "met", "met_with_confidence", "verdict", "seeds_for_confidence")}
            for row in improvement_rows if row["target"] is not None and row["arm"] == "predictive"]


def comparisons(arms: list[str]) -> list[tuple[str, str]]:
    """(arm, baseline) pairs: predictive against each other arm, preventive against run-to-failure."""
    pairs = [("predictive", b) for b in ("run_to_failure", "preventive") if "predictive" in arms and b in arms]
    if "preventive" in arms and "run_to_failure" in arms:
        pairs.append(("preventive", "run_to_failure"))
    return pairs
