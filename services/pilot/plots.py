"""The report's figures (matplotlib, headless), returned as PNG bytes."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend must be chosen first

COLOURS = {"run_to_failure": "#8c8c8c", "preventive": "#4c72b0", "predictive": "#2a9d5c"}
PANELS = [
    ("defect_rate", "Defect rate", 100.0, "%"),
    ("energy_per_good_part_kwh", "Energy per good part", 1.0, "kWh"),
    ("oee", "OEE", 100.0, "%"),
    ("unplanned_downtime_hours", "Unplanned downtime", 1.0, "h"),
    ("operating_cost", "Operating cost", 1e-3, "k"),
    ("failures", "Failures", 1.0, "count"),
]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def kpi_panels(report: dict[str, Any], scope: str = "plant") -> bytes:
    """One panel per key KPI: each arm's mean over seeds with its confidence interval."""
    arms = list(report["arms"])
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, (name, title, scale, unit) in zip(axes.flat, PANELS, strict=False):
        means, errs = [], [[], []]
        for arm in arms:
            k = report["arms"][arm][scope]["kpis"][name]
            m = (k["mean"] or 0.0) * scale
            means.append(m)
            errs[0].append(m - k["low"] * scale if k["low"] is not None else 0.0)
            errs[1].append(k["high"] * scale - m if k["high"] is not None else 0.0)
        ax.bar(range(len(arms)), means, yerr=errs, capsize=6, color=[COLOURS.get(a, "#999") for a in arms])
        ax.set_xticks(range(len(arms)), [a.replace("_", "-") for a in arms], fontsize=8)
        unit_text = f"{report['assumptions']['prices']['currency']} thousand" if unit == "k" else unit
        ax.set_title(f"{title} ({unit_text})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"KPIs per policy, {scope}: mean over {len(report['config']['seeds'])} seeds, "
                 f"{int(report['config']['confidence'] * 100)} % CI", fontsize=11)
    return _png(fig)


def improvement_chart(report: dict[str, Any]) -> bytes:
    """Improvement of each arm over its baseline per figure, with interval and the national target."""
    rows = [r for r in report["improvements"] if r["mean"] is not None and r.get("scope", "plant") == "plant"]
    fig, ax = plt.subplots(figsize=(10, 0.38 * max(len(rows), 4) + 1.2))
    for i, r in enumerate(rows):
        colour = COLOURS.get(r["arm"], "#999")
        lo = r["low"] if r["low"] is not None else r["mean"]
        hi = r["high"] if r["high"] is not None else r["mean"]
        ax.errorbar(r["mean"] * 100, i, xerr=[[(r["mean"] - lo) * 100], [(hi - r["mean"]) * 100]],
                    fmt="o", color=colour, capsize=4)
        if r["target"] is not None:
            ax.plot([r["target"] * 100] * 2, [i - 0.4, i + 0.4], color="#c0392b", lw=2)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), [f"{r['name']}  ({r['arm']} vs {r['baseline']})" for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("improvement over baseline, % (positive = better); red bar = national target")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
