"""Turn the event stream (contract messages or the documented events table) into frames.

The KPI engine sees only what a real line reports: parts, failures, maintenance, state
changes and alerts. Nothing here knows about the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from contracts.errors import LineWatchError

EVENT_KINDS = ("part_completed", "failure", "maintenance_done", "state_changed", "plc_alarm")
COLUMNS = {
    "part_completed": ["cycle_time_s", "ideal_cycle_time_s", "energy_kwh", "good"],
    "failure": ["mode", "component"],
    "maintenance_done": ["planned", "duration_s", "parts_cost", "action", "reason", "component"],
    "state_changed": ["from_state", "to_state"],
}
DEFAULTS = {"parts_cost": 0.0, "duration_s": 0.0, "energy_kwh": 0.0, "component": "", "action": "", "reason": ""}


class KpiInputError(LineWatchError):
    """The events or alerts given to the KPI engine cannot be used; the message says why."""


@dataclass(frozen=True)
class EventFrames:
    """One frame per event kind, each with ``machine_id`` and a UTC ``ts`` column, sorted by time."""

    parts: pd.DataFrame
    failures: pd.DataFrame
    maintenance: pd.DataFrame
    states: pd.DataFrame
    alerts: pd.DataFrame

    def machines(self) -> list[str]:
        """Every machine id that appears in any frame."""
        ids: set[str] = set()
        for frame in (self.parts, self.failures, self.maintenance, self.states, self.alerts):
            ids.update(frame["machine_id"].unique())
        return sorted(ids)


def _records(items: Iterable[Any]) -> pd.DataFrame:
    rows = []
    for item in items:
        if isinstance(item, BaseModel):
            rows.append(dict(item.__dict__))  # fields only; much faster than model_dump on 100k parts
        elif isinstance(item, dict):
            rows.append(item)
        else:
            raise KpiInputError(f"cannot read a {type(item).__name__} as an event; "
                                "give contract messages or a DataFrame")
    return pd.DataFrame(rows)


def _as_frame(data: Any) -> pd.DataFrame:
    if data is None:
        return pd.DataFrame({"machine_id": [], "ts": []})
    if isinstance(data, pd.DataFrame):
        return data.copy()
    return _records(data)


def _utc(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if frame.empty:
        frame["ts"] = pd.Series([], dtype="datetime64[ns, UTC]")
        return frame
    if "ts" not in frame.columns:
        raise KpiInputError(f"{what}: a 'ts' column (UTC timestamp) is required; cycle-only data has no time base")
    for col in ("machine_id",):
        if col not in frame.columns:
            raise KpiInputError(f"{what}: a '{col}' column is required")
    try:
        ts = pd.to_datetime(frame["ts"], utc=True)
    except (ValueError, TypeError) as exc:
        raise KpiInputError(f"{what}: unreadable timestamps in 'ts': {exc}") from exc
    if ts.isna().any():
        raise KpiInputError(f"{what}: {int(ts.isna().sum())} rows have no timestamp")
    frame["ts"] = ts.astype("datetime64[ns, UTC]")
    return frame


def _kind(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    cols = ["machine_id", "ts", *COLUMNS[kind]]
    sub = frame[frame["kind"] == kind] if not frame.empty else frame
    out = pd.DataFrame({c: sub[c] if c in sub.columns else DEFAULTS.get(c) for c in cols}, index=sub.index)
    missing = [c for c in COLUMNS[kind] if c not in DEFAULTS and out[c].isna().any()]
    if kind == "part_completed" and missing:
        raise KpiInputError(f"part_completed rows lack values in {missing}")
    if kind == "maintenance_done" and out["planned"].isna().any():
        raise KpiInputError("maintenance_done rows need 'planned' (true for planned actions, false for repairs)")
    for col, default in DEFAULTS.items():
        if col in out.columns:
            out[col] = out[col].fillna(default)
    return out.sort_values(["ts", "machine_id"], kind="stable").reset_index(drop=True)


def _alerts(alerts: Any) -> pd.DataFrame:
    frame = _utc(_as_frame(alerts), "alerts")
    if frame.empty:
        return pd.DataFrame({"machine_id": pd.Series([], dtype=str), "ts": frame["ts"],
                             "mode": pd.Series([], dtype=str)})
    if "action" in frame.columns:  # only the raise counts: updates and clears are the same alert
        frame = frame[frame["action"].astype(str).str.lower().isin(["raised", "alertaction.raised"])]
    mode = frame["mode"] if "mode" in frame.columns else ""
    out = pd.DataFrame({"machine_id": frame["machine_id"], "ts": frame["ts"], "mode": mode})
    return out.sort_values(["ts", "machine_id"], kind="stable").reset_index(drop=True)


def event_frames(events: Any, alerts: Any = None) -> EventFrames:
    """Split events (contract messages, dicts or an events-table DataFrame) into typed frames.

    ``AlertEvent`` messages mixed into ``events`` are picked out as alerts; ``alerts`` may
    also be given separately (messages or a frame with ``machine_id``, ``ts``, ``mode``,
    optional ``action``).
    """
    if isinstance(events, EventFrames):
        return events
    if isinstance(events, BaseModel):
        raise KpiInputError("give a list of events, not a single message")
    if events is not None and not isinstance(events, pd.DataFrame):
        events = list(events)
        mixed_alerts = [e for e in events if type(e).__name__ == "AlertEvent"]
        events = [e for e in events if type(e).__name__ != "AlertEvent"]
        if mixed_alerts:
            alerts = mixed_alerts + (list(alerts) if alerts is not None else [])
    frame = _utc(_as_frame(events), "events")
    if not frame.empty and "kind" not in frame.columns:
        raise KpiInputError("events: a 'kind' column is required (part_completed, failure, maintenance_done, ...)")
    if not frame.empty:
        unknown = sorted(set(frame["kind"].astype(str)) - set(EVENT_KINDS))
        if unknown:
            raise KpiInputError(f"events: unknown kind(s) {unknown}; expected one of {list(EVENT_KINDS)}")
    else:
        frame["kind"] = pd.Series([], dtype=str)
    frames = {k: _kind(frame, k) for k in COLUMNS}
    frames["part_completed"]["good"] = frames["part_completed"]["good"].astype(bool)
    frames["maintenance_done"]["planned"] = frames["maintenance_done"]["planned"].astype(bool)
    states = frames["state_changed"]
    states["from_state"] = states["from_state"].astype(str).str.replace("MachineState.", "").str.lower()
    states["to_state"] = states["to_state"].astype(str).str.replace("MachineState.", "").str.lower()
    return EventFrames(parts=frames["part_completed"], failures=frames["failure"],
                       maintenance=frames["maintenance_done"], states=states, alerts=_alerts(alerts))


def as_utc(value: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """A timezone-aware UTC timestamp; naive input is refused rather than guessed."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise KpiInputError(f"time {value!r} has no timezone; give UTC (e.g. 2026-01-05T08:00:00+00:00)")
    return ts.tz_convert(UTC)
