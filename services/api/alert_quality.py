"""Alert-system KPIs of ANSI/ISA-18.2 and EEMUA 191 (DESIGN.md §7a), pure: lists in, dict out.

alerts per hour; share of 10-minute windows in flood (>10 alerts); chattering alerts
(the same machine+mode raised 3+ times within one minute); stale alerts (active > 24 h);
share of the ten most frequent alert types; priority split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

TARGETS = {"alerts_per_hour_acceptable": 6, "alerts_per_hour_max": 12, "flood_window_share_max": 0.01,
           "chattering_alerts": 0, "priority_split": {"low": 0.80, "medium": 0.15, "high": 0.05}}


@dataclass(frozen=True)
class RaisedAlert:
    machine_id: str
    mode: str
    priority: str
    raised_at: datetime
    active: bool
    resolved: bool


def _chattering(alerts: list[RaisedAlert]) -> int:
    by_type: dict[tuple[str, str], list[datetime]] = {}
    for a in alerts:
        by_type.setdefault((a.machine_id, a.mode), []).append(a.raised_at)
    count = 0
    for stamps in by_type.values():
        stamps.sort()
        if any(stamps[i + 2] - stamps[i] <= timedelta(minutes=1) for i in range(len(stamps) - 2)):
            count += 1
    return count


def alert_kpis(alerts: list[RaisedAlert], start: datetime, end: datetime, now: datetime) -> dict[str, object]:
    """The alert-system KPIs over [start, end); ``now`` decides which active alerts are stale."""
    hours = max((end - start).total_seconds() / 3600.0, 1e-9)
    windows = max(1, int((end - start).total_seconds() // 600))
    per_window = Counter(int((a.raised_at - start).total_seconds() // 600) for a in alerts)
    flood = sum(1 for n in per_window.values() if n > 10)
    types = Counter(f"{a.machine_id}|{a.mode}" for a in alerts)
    top = types.most_common(10)
    prio = Counter(a.priority for a in alerts)
    n = len(alerts)
    return {
        "from": start, "to": end, "alerts": n, "alerts_per_hour": n / hours,
        "flood_windows": flood, "windows": windows, "flood_window_share": flood / windows,
        "chattering_alerts": _chattering(alerts),
        "stale_alerts": sum(1 for a in alerts
                            if a.active and not a.resolved and now - a.raised_at > timedelta(hours=24)),
        "top10_share": (sum(c for _, c in top) / n) if n else None,
        "top10": [{"type": k, "count": c} for k, c in top],
        "priority_split": {p: (prio.get(p, 0) / n if n else None) for p in ("low", "medium", "high")},
        "targets": TARGETS,
    }
