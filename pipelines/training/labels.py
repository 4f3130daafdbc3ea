"""Labels from events (and optional feedback labels): failure within H per mode, capped
RUL, defect risk for the next parts.

A row's label is unknown (NaN) rather than 0 when the data end before its horizon does
(censoring) or when the machine is not running (down or in maintenance): counting those
as "no failure" would teach the model that the last hours of every history are safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.errors import ContractError

FEEDBACK_OUTCOMES = ("confirmed_fault", "false_alarm", "no_fault_found")
_HOUR = np.timedelta64(3600, "s")


@dataclass(frozen=True)
class LabelSpec:
    """Horizon, RUL cap and the number of upcoming parts the defect label looks at."""

    horizon_hours: float = 24.0
    rul_cap_hours: float = 168.0
    defect_parts: int = 5
    mode_horizons: tuple[tuple[str, float], ...] = ()  # per-mode horizon (h); missing modes: horizon_hours

    def horizon(self, mode: str) -> float:
        """The label horizon of ``mode``."""
        return dict(self.mode_horizons).get(mode, self.horizon_hours)

    @property
    def longest(self) -> float:
        """The longest horizon of any mode: how far a label may look ahead."""
        return max([self.horizon_hours, *(h for _, h in self.mode_horizons)])


def failures(events: pd.DataFrame | None, feedback: pd.DataFrame | None = None) -> pd.DataFrame:
    """Failure events (machine_id, ts, mode), plus feedback rows with outcome confirmed_fault."""
    parts = []
    if events is not None and len(events):
        parts.append(events.loc[events["kind"] == "failure"].reindex(columns=["machine_id", "ts", "mode"]))
    if feedback is not None and len(feedback):
        bad = set(feedback["outcome"].dropna()) - set(FEEDBACK_OUTCOMES)
        if bad:
            raise ContractError(f"labels: unknown outcome(s) {sorted(bad)}; use {FEEDBACK_OUTCOMES}")
        parts.append(feedback.loc[feedback["outcome"] == "confirmed_fault", ["machine_id", "ts", "mode"]])
    if not parts:
        return pd.DataFrame({"machine_id": [], "ts": pd.to_datetime([], utc=True), "mode": []})
    out = pd.concat(parts, ignore_index=True)
    if out["mode"].isna().any():
        raise ContractError("events: every failure needs a 'mode'")
    return out.sort_values(["machine_id", "ts"], kind="stable").reset_index(drop=True)


def _next_after(t: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Time of the first event strictly after each t (NaT if none)."""
    times = np.sort(times)
    pos = np.searchsorted(times, t, side="right")
    out = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = pos < len(times)
    out[ok] = times[pos[ok]]
    return out


def _machine_labels(t: np.ndarray, running: np.ndarray, end: np.datetime64, fails: pd.DataFrame,
                    parts: pd.DataFrame | None, modes: list[str], spec: LabelSpec) -> dict[str, np.ndarray]:
    fts = fails["ts"].to_numpy(dtype="datetime64[ns]")
    fmode = fails["mode"].to_numpy(dtype=object)
    out: dict[str, np.ndarray] = {}
    for m in modes:
        h = np.timedelta64(int(spec.horizon(m) * 3600), "s")
        nxt = _next_after(t, fts[fmode == m])
        hit = ~np.isnat(nxt) & (nxt - t <= h)
        y = np.where(hit, 1.0, np.where(t + h <= end, 0.0, np.nan))
        out[f"y_{m}"] = np.where(running, y, np.nan)
    nxt = _next_after(t, fts)
    to_fail = (nxt - t) / _HOUR
    observed = (np.asarray(end) - t) / _HOUR  # as an array: numpy's stubs mistype datetime64 - array
    rul = np.where(np.isnat(nxt), np.where(observed >= spec.rul_cap_hours, spec.rul_cap_hours, np.nan),
                   np.minimum(to_fail, spec.rul_cap_hours))
    out["rul_hours"] = np.where(running, rul, np.nan)
    pos = np.searchsorted(fts, t, side="right")
    nxt_mode = np.full(len(t), None, dtype=object)
    if len(fts):
        nxt_mode[pos < len(fts)] = fmode[pos[pos < len(fts)]]
    out["next_failure_mode"] = nxt_mode
    out["next_failure_ts"] = nxt
    out["y_defect"] = _defect(t, parts, spec.defect_parts) if parts is not None else np.full(len(t), np.nan)
    out["y_defect"] = np.where(running, out["y_defect"], np.nan)
    return out


def _defect(t: np.ndarray, parts: pd.DataFrame, k: int) -> np.ndarray:
    """1 if any of the next ``k`` parts fails inspection, 0 if all k pass, NaN if unseen."""
    pts = parts["ts"].to_numpy(dtype="datetime64[ns]")
    bad = (~parts["good"].astype(bool)).to_numpy().astype(float)
    cum = np.concatenate([[0.0], np.cumsum(bad)])
    start = np.searchsorted(pts, t, side="right")
    stop = np.minimum(start + k, len(pts))
    n_bad = cum[stop] - cum[start]
    return np.where(n_bad > 0, 1.0, np.where(stop - start >= k, 0.0, np.nan))


def make_labels(rows: pd.DataFrame, events: pd.DataFrame | None, modes: list[str], spec: LabelSpec,
                observed_until: dict[str, pd.Timestamp] | None = None,
                feedback: pd.DataFrame | None = None) -> pd.DataFrame:
    """Labels aligned with feature ``rows`` (columns machine_id, ts[, state]).

    ``observed_until`` gives each machine's last telemetry time (default: its last row).
    ``feedback`` is an optional table ``machine_id, ts, mode, outcome`` from closed work
    orders / resolved alerts: confirmed faults count as failures of that mode.
    """
    fails = failures(events, feedback)
    parts_all = None
    if events is not None and len(events) and "good" in events:
        parts_all = events[(events["kind"] == "part_completed") & events["good"].notna()]
    out = []
    for machine, g in rows.groupby("machine_id", sort=False):
        t = g["ts"].to_numpy(dtype="datetime64[ns]")
        end = np.datetime64(pd.Timestamp((observed_until or {}).get(machine, g["ts"].max())).tz_convert(None), "ns")
        running = (g["state"].fillna("running") == "running").to_numpy() if "state" in g else np.ones(len(g), bool)
        parts = parts_all[parts_all["machine_id"] == machine].sort_values("ts") if parts_all is not None else None
        lab = _machine_labels(t, running, end, fails[fails["machine_id"] == machine], parts, modes, spec)
        out.append(pd.DataFrame(lab, index=g.index))
    result = pd.concat(out).reindex(rows.index) if out else pd.DataFrame(index=rows.index)
    result["next_failure_ts"] = pd.to_datetime(result["next_failure_ts"]).dt.tz_localize("UTC")
    return result
