"""``compute``: per-machine rolling-window features, shared by training and streaming scoring.

Every value at a row uses only rows at or before it (pandas trailing windows, a baseline
shifted into the past, counters from earlier events): the scorer gets the same numbers
from a buffer of ``spec.max_window`` recent rows as training gets from the full history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.errors import ContractError
from pipelines.features.counters import counter_names, counters
from pipelines.features.spec import FeatureSpec
from pipelines.features.timeaxis import with_ts

NON_SIGNALS = {"machine_id", "ts", "cycle", "state", "seq", "failure_mode", "program", "tool_id", "part_id",
               "source", "quality", "date", "machine", "kind"}
_EPS = 1e-9


def signal_columns(telemetry: pd.DataFrame) -> list[str]:
    """Numeric signal columns of a telemetry table, in table order."""
    return [c for c in telemetry.columns
            if c not in NON_SIGNALS and pd.api.types.is_numeric_dtype(telemetry[c])
            and not pd.api.types.is_bool_dtype(telemetry[c])]


def feature_names(spec: FeatureSpec, signals: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """Feature columns ``compute`` returns for ``spec`` (and ``signals`` when the spec has none)."""
    sigs = list(spec.signals or signals or ())
    names: list[str] = []
    for s in sigs:
        names.append(f"{s}__last")
        for w in spec.windows:
            names += [f"{s}__{stat}_{w}" for stat in spec.stats]
            names.append(f"{s}__z_{w}")
            if spec.condition_signal and s != spec.condition_signal and spec.condition_signal in sigs:
                names.append(f"{s}__norm_{w}")
    return names + counter_names(spec.components)


def _rolling(frame: pd.DataFrame, w: int) -> pd.core.window.Rolling:
    return frame.rolling(w, min_periods=max(2, w // 2))


def _window_block(x: pd.DataFrame, t: np.ndarray, spec: FeatureSpec, w: int,
                  base_mean: np.ndarray, base_std: np.ndarray) -> dict[str, np.ndarray]:
    """All statistics of one window length, as (rows x signals) arrays keyed by stat."""
    roll = _rolling(x, w)
    out: dict[str, np.ndarray] = {}
    mean = roll.mean().to_numpy()
    for stat in spec.stats:
        if stat == "mean":
            out[stat] = mean
        elif stat == "std":
            out[stat] = roll.std().to_numpy()
        elif stat == "min":
            out[stat] = roll.min().to_numpy()
        elif stat == "max":
            out[stat] = roll.max().to_numpy()
    if "slope" in spec.stats:
        # least-squares slope per hour: cov(x, t) / var(t) over the samples present
        tm = pd.DataFrame(np.where(x.notna().to_numpy(), t[:, None], np.nan), columns=x.columns)
        mt = _rolling(tm, w).mean().to_numpy()
        mxt = _rolling(x * tm, w).mean().to_numpy()
        mtt = _rolling(tm * tm, w).mean().to_numpy()
        var = mtt - mt * mt
        out["slope"] = np.where(var > 1e-12, (mxt - mean * mt) / np.where(var > 1e-12, var, 1.0), np.nan)
    out["z"] = (mean - base_mean) / (base_std + _EPS)
    out["mean_"] = mean
    return out


def _machine_features(tel: pd.DataFrame, spec: FeatureSpec, sigs: list[str], rows: np.ndarray,
                      events: pd.DataFrame | None) -> np.ndarray:
    """Feature matrix for one machine at the selected ``rows``."""
    x = tel[sigs].astype("float64").reset_index(drop=True)
    if spec.running_only and "state" in tel.columns:
        running = tel["state"].fillna("running").to_numpy() == "running"
        x = x.where(pd.Series(running))
    ts = tel["ts"].to_numpy(dtype="datetime64[ns]")
    t = (ts - ts[0]) / np.timedelta64(1, "h")
    base = x.rolling(spec.baseline_rows, min_periods=max(2, spec.baseline_rows // 4))
    base_mean = base.mean().shift(spec.longest).to_numpy()
    base_std = base.std().shift(spec.longest).to_numpy()
    cond = sigs.index(spec.condition_signal) if spec.condition_signal in sigs else None
    cols: list[np.ndarray] = [x.to_numpy()[rows]]  # "last", one column per signal
    blocks = [_window_block(x, t, spec, w, base_mean, base_std) for w in spec.windows]
    parts: dict[str, list[np.ndarray]] = {s: [cols[0][:, i:i + 1]] for i, s in enumerate(sigs)}
    for block in blocks:
        for i, s in enumerate(sigs):
            parts[s] += [block[stat][rows, i:i + 1] for stat in spec.stats]
            parts[s].append(block["z"][rows, i:i + 1])
            if cond is not None and i != cond:
                denom = np.abs(block["mean_"][rows, cond:cond + 1]) + _EPS
                parts[s].append(block["mean_"][rows, i:i + 1] / denom)
    feats = np.hstack([np.hstack(parts[s]) for s in sigs]) if sigs else np.empty((len(rows), 0))
    return np.hstack([feats, counters(ts[rows], events, spec.components)])


def _check(telemetry: pd.DataFrame, sigs: list[str]) -> None:
    if "machine_id" not in telemetry.columns:
        raise ContractError("telemetry: needs a 'machine_id' column")
    if not sigs:
        raise ContractError("telemetry: needs at least one numeric signal column")


def compute(telemetry: pd.DataFrame, spec: FeatureSpec, events: pd.DataFrame | None = None, *,
            last_only: bool = False) -> pd.DataFrame:
    """Feature rows for every machine in ``telemetry`` (format of ``docs/data-format.md``).

    Returns columns ``machine_id, ts, state`` and :func:`feature_names`, one row every
    ``spec.step`` samples per machine (or only each machine's last row with
    ``last_only=True``, as the streaming scorer uses it). ``events`` (optional) feeds
    the counters since the last maintenance / failure.
    """
    tel = with_ts(telemetry, spec.cycle_seconds)
    sigs = list(spec.signals) if spec.signals else signal_columns(tel)
    _check(tel, sigs)
    missing = [s for s in sigs if s not in tel.columns]
    if missing:  # a machine without a sensor still gets the same columns (NaN)
        tel = tel.assign(**{s: np.nan for s in missing})
    tel = tel.sort_values(["machine_id", "ts"], kind="stable")
    ev = with_ts(events, spec.cycle_seconds, "events") if events is not None and len(events) else None
    ev_by = dict(tuple(ev.groupby("machine_id", sort=False))) if ev is not None else {}
    names = feature_names(spec, sigs)
    out = []
    for machine, g in tel.groupby("machine_id", sort=False):
        n = len(g)
        rows = np.array([n - 1]) if last_only else np.arange(spec.step - 1, n, spec.step)
        if len(rows) == 0:
            continue
        feats = _machine_features(g, spec, sigs, rows, ev_by.get(machine))
        meta = pd.DataFrame({"machine_id": machine, "ts": g["ts"].to_numpy()[rows],
                             "state": g["state"].to_numpy()[rows] if "state" in g else "running"})
        out.append(pd.concat([meta, pd.DataFrame(feats, columns=names)], axis=1))
    if not out:
        return pd.DataFrame(columns=["machine_id", "ts", "state", *names])
    result = pd.concat(out, ignore_index=True)
    result["ts"] = pd.to_datetime(result["ts"], utc=True)
    return result
