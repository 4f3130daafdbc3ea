"""Counters since the last maintenance / failure, from the events table.

Only events at or before a row's ``ts`` count, so counters never look ahead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def counter_names(components: tuple[str, ...]) -> list[str]:
    """Column names, in order, of the counter features."""
    names = ["hours_since_maintenance", "hours_since_failure", "parts_since_maintenance"]
    return names + [f"hours_since_maintenance__{c}" for c in components]


def _hours_since(row_ts: np.ndarray, event_ts: np.ndarray) -> np.ndarray:
    """Hours from the latest event at or before each row (NaN when there is none yet)."""
    out = np.full(len(row_ts), np.nan)
    if len(event_ts) == 0:
        return out
    event_ts = np.sort(event_ts)
    pos = np.searchsorted(event_ts, row_ts, side="right") - 1
    ok = pos >= 0
    out[ok] = (row_ts[ok] - event_ts[pos[ok]]) / np.timedelta64(1, "h")
    return out


def _parts_since(row_ts: np.ndarray, parts: np.ndarray, maint: np.ndarray) -> np.ndarray:
    """Parts completed since the last maintenance; NaN before the first known one (so a
    scorer holding only recent events gets the same value as training)."""
    out = np.full(len(row_ts), np.nan)
    if len(maint) == 0:
        return out
    pos = np.searchsorted(maint, row_ts, side="right") - 1
    ok = pos >= 0
    done = np.searchsorted(parts, row_ts[ok], side="right")
    out[ok] = done - np.searchsorted(parts, maint[pos[ok]], side="right")
    return out


def counters(row_ts: np.ndarray, events: pd.DataFrame | None, components: tuple[str, ...]) -> np.ndarray:
    """Counter matrix (rows x counters) for one machine; ``events`` holds only that machine."""
    if events is None or events.empty:
        return np.full((len(row_ts), len(counter_names(components))), np.nan)
    ev_ts = events["ts"].to_numpy(dtype="datetime64[ns]")
    kind = events["kind"].to_numpy(dtype=object)
    is_maint = kind == "maintenance_done"
    comp = events["component"].to_numpy(dtype=object) if "component" in events else np.full(len(events), None)
    return counters_from(row_ts, ev_ts[is_maint], comp[is_maint], ev_ts[kind == "failure"],
                         ev_ts[kind == "part_completed"], components)


def counters_from(row_ts: np.ndarray, maintenance_ts: np.ndarray, maintenance_component: np.ndarray,
                  failure_ts: np.ndarray, part_ts: np.ndarray, components: tuple[str, ...]) -> np.ndarray:
    """:func:`counters` from one machine's event times per kind (``datetime64[ns]``, any order) and the
    component of each maintenance: the scorer keeps its events as arrays, training as a table."""
    cols = [_hours_since(row_ts, maintenance_ts), _hours_since(row_ts, failure_ts)]
    cols.append(_parts_since(row_ts, np.sort(part_ts), np.sort(maintenance_ts)))
    for c in components:
        cols.append(_hours_since(row_ts, maintenance_ts[maintenance_component == c]))
    return np.column_stack(cols)
