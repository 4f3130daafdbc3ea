"""``compute``: per-machine rolling-window features, shared by training and streaming scoring.

Every value at a row uses only rows at or before it (trailing windows, a baseline that ends
where the longest window starts, counters from earlier events). The window statistics have
one definition, :func:`window_features`, over blocks of the ``spec.max_window`` samples up
to a row: training slides it over the full history, the streaming scorer applies it to its
ring buffers, so both get the same numbers (tested to 1e-9 on every feature).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from contracts.errors import ContractError
from pipelines.features.conditions import apply as apply_conditions
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


def category_names(spec: FeatureSpec) -> list[str]:
    """Feature columns of the categorical columns: ``<column>__cat``, the row's own level code."""
    return [f"{c}__cat" for c in spec.categories]


def category_text(values: pd.Series) -> pd.Series:
    """A categorical column's values as text, NaN kept (``3.0`` -> ``"3"``, so a chunk read as
    numbers and one read as text give the same levels)."""
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return np.nan
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text if text else np.nan
    return values.astype(object).map(one)


def category_codes(values: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """Codes of ``values`` in the training ``levels`` (float; NaN for missing and unseen values)."""
    code = {level: float(i) for i, level in enumerate(levels)}
    return np.asarray(category_text(values).map(code), dtype="float64")  # not in ``code``: NaN


def unseen_categories(telemetry: pd.DataFrame, spec: FeatureSpec) -> dict[str, dict[str, int]]:
    """Per categorical column, the values not among the training levels and their row counts."""
    out: dict[str, dict[str, int]] = {}
    for c, levels in spec.categories.items():
        if c not in telemetry.columns:
            continue
        text = category_text(telemetry[c]).dropna()
        bad = text[~text.isin(list(levels))]
        if len(bad):
            out[c] = {str(k): int(v) for k, v in bad.value_counts().items()}
    return out


_HOUR_NS = 3_600_000_000_000
_CHUNK_ELEMENTS = 4_000_000  # rows x signals x window elements per kernel call in ``compute`` (~32 MB)


def _stats(x: np.ndarray, t: np.ndarray | None, min_periods: int, stats: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Statistics over the last axis of ``x`` (rows x signals x samples), NaN = missing.

    ``t`` (rows x 1 x samples, hours) is needed for the slope only. A statistic is NaN
    where fewer than ``min_periods`` samples are present.

    Rows without any missing value (the common case while a machine runs) take
    :func:`_stats_full`, the same arithmetic without the masks: the same numbers, bit for bit.
    """
    full = ~np.isnan(x).any(axis=(1, 2))
    if full.all():
        return _stats_full(x, t, min_periods, stats)
    if not full.any():
        return _stats_masked(x, t, min_periods, stats)
    a = _stats_full(x[full], None if t is None else t[full], min_periods, stats)
    b = _stats_masked(x[~full], None if t is None else t[~full], min_periods, stats)
    out = {}
    for k, v in a.items():
        merged = np.empty((len(x), *v.shape[1:]))
        merged[full], merged[~full] = v, b[k]
        out[k] = merged
    return out


def _stats_full(x: np.ndarray, t: np.ndarray | None, min_periods: int, stats: tuple[str, ...]) -> dict[str, np.ndarray]:
    """:func:`_stats_masked` for blocks without missing values (every mask is all-true)."""
    count = x.shape[-1]
    if count < min_periods or count < 2:  # never with a valid spec (windows of 2 samples or more)
        return _stats_masked(x, t, min_periods, stats)
    mean = x.sum(axis=-1) / count
    out: dict[str, np.ndarray] = {"mean": mean}
    need_dev = "std" in stats or "slope" in stats
    dev = x - mean[..., None] if need_dev else None
    if "std" in stats and dev is not None:
        out["std"] = np.sqrt((dev * dev).sum(axis=-1) / (count - 1))
    if "min" in stats:
        out["min"] = x.min(axis=-1)
    if "max" in stats:
        out["max"] = x.max(axis=-1)
    if "slope" in stats and t is not None and dev is not None:
        tc = t - (t.sum(axis=-1) / count)[..., None]  # rows x 1 x samples: the same for every signal
        var_t = (tc * tc).sum(axis=-1) / count
        cov = (dev * tc).sum(axis=-1) / count
        good = np.broadcast_to(var_t > 1e-12, cov.shape)
        out["slope"] = np.where(good, cov / np.where(good, var_t, 1.0), np.nan)
    return out


def _stats_masked(x: np.ndarray, t: np.ndarray | None, min_periods: int,
                  stats: tuple[str, ...]) -> dict[str, np.ndarray]:
    """:func:`_stats` with missing values (NaN) masked out."""
    present = ~np.isnan(x)
    n = present.sum(axis=-1)
    ok = n >= min_periods
    safe_n = np.where(n > 0, n, 1)
    filled = np.where(present, x, 0.0)
    mean = filled.sum(axis=-1) / safe_n
    out: dict[str, np.ndarray] = {"mean": np.where(ok, mean, np.nan)}
    need_dev = "std" in stats or "slope" in stats
    dev = np.where(present, x - mean[..., None], 0.0) if need_dev else None
    if "std" in stats and dev is not None:  # dev is there whenever std or slope is asked for
        var = (dev * dev).sum(axis=-1) / np.where(n > 1, n - 1, 1)
        out["std"] = np.where(ok & (n > 1), np.sqrt(var), np.nan)
    if "min" in stats:
        out["min"] = np.where(ok, np.where(present, x, np.inf).min(axis=-1), np.nan)
    if "max" in stats:
        out["max"] = np.where(ok, np.where(present, x, -np.inf).max(axis=-1), np.nan)
    if "slope" in stats and t is not None and dev is not None:
        # least-squares slope per hour over the samples present, with centred time (stable
        # whatever the time origin, so a short buffer and a long history agree)
        tp = np.where(present, t, 0.0)
        tc = np.where(present, t - (tp.sum(axis=-1) / safe_n)[..., None], 0.0)
        var_t = (tc * tc).sum(axis=-1) / safe_n
        cov = (dev * tc).sum(axis=-1) / safe_n
        good = ok & (var_t > 1e-12)
        out["slope"] = np.where(good, cov / np.where(good, var_t, 1.0), np.nan)
    return out


def window_features(values: np.ndarray, ts_ns: np.ndarray, spec: FeatureSpec, signals: list[str]) -> np.ndarray:
    """THE definition of the window features (every column of :func:`feature_names` but the
    counters), for rows whose trailing history is given as blocks.

    ``values``: rows x signals x ``spec.max_window`` samples, oldest first, the last sample
    being the row itself; NaN where a value is missing, the machine was not running (with
    ``running_only``) or the history is shorter than the block (padding). ``ts_ns``: rows x
    samples, int64 nanoseconds (padding entries are ignored). Training (:func:`compute`,
    over sliding windows of the full history) and the streaming scorer (over its ring
    buffers) both call this, so their features agree to rounding.
    """
    rows, n_sig, length = values.shape
    if length != spec.max_window:
        raise ValueError(f"blocks must hold spec.max_window={spec.max_window} samples, got {length}")
    t = ((ts_ns - ts_ns[:, -1:]).astype("float64") / _HOUR_NS)[:, None, :]
    base = _stats(values[:, :, :spec.baseline_rows], None, max(2, spec.baseline_rows // 4), ("std",))
    cond = signals.index(spec.condition_signal) if spec.condition_signal in signals else None
    per_signal: list[list[np.ndarray]] = [[values[:, i, -1]] for i in range(n_sig)]
    for w in spec.windows:
        st = _stats(values[:, :, length - w:], t[:, :, length - w:], max(2, w // 2), spec.stats)
        z = (st["mean"] - base["mean"]) / (base["std"] + _EPS)
        for i in range(n_sig):
            cols = per_signal[i]
            cols += [st[stat][:, i] for stat in spec.stats]
            cols.append(z[:, i])
            if cond is not None and i != cond:
                cols.append(st["mean"][:, i] / (np.abs(st["mean"][:, cond]) + _EPS))
    if not n_sig:
        return np.empty((rows, 0))
    return np.column_stack([c for cols in per_signal for c in cols])


def _machine_features(tel: pd.DataFrame, spec: FeatureSpec, sigs: list[str], rows: np.ndarray,
                      events: pd.DataFrame | None) -> np.ndarray:
    """Feature matrix for one machine at the selected ``rows`` (sliding blocks -> kernel)."""
    x = tel[sigs].astype("float64").to_numpy(copy=True)
    if spec.running_only and "state" in tel.columns:
        x[tel["state"].fillna("running").to_numpy() != "running"] = np.nan
    ts = tel["ts"].to_numpy(dtype="datetime64[ns]").astype("int64")
    length = spec.max_window
    padded = np.vstack([np.full((length - 1, len(sigs)), np.nan), x]).T  # signals x (pad + n)
    padded_ts = np.concatenate([np.full(length - 1, ts[0]), ts])
    blocks = sliding_window_view(padded, length, axis=1)  # signals x n x length (a view)
    ts_blocks = sliding_window_view(padded_ts, length)
    chunk = max(1, _CHUNK_ELEMENTS // (length * len(sigs)))
    feats = [window_features(np.ascontiguousarray(blocks[:, rows[i:i + chunk], :].transpose(1, 0, 2)),
                             ts_blocks[rows[i:i + chunk]], spec, sigs) for i in range(0, len(rows), chunk)]
    return np.hstack([np.vstack(feats), counters(ts[rows].astype("datetime64[ns]"), events, spec.components)])


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
    if spec.conditions is not None:
        tel = apply_conditions(tel, spec.conditions)
    sigs = list(spec.signals) if spec.signals else signal_columns(tel)
    sigs = [s for s in sigs if s not in spec.categories]
    _check(tel, sigs)
    missing = [s for s in sigs if s not in tel.columns]
    if missing:  # a machine without a sensor still gets the same columns (NaN)
        tel = tel.assign(**{s: np.nan for s in missing})
    tel = tel.sort_values(["machine_id", "ts"], kind="stable")
    ev = with_ts(events, spec.cycle_seconds, "events") if events is not None and len(events) else None
    ev_by = dict(tuple(ev.groupby("machine_id", sort=False))) if ev is not None else {}
    names = feature_names(spec, sigs)
    cats = category_names(spec)
    codes = {c: category_codes(tel[c], levels) if c in tel.columns else np.full(len(tel), np.nan)
             for c, levels in spec.categories.items()}  # codes from the spec's levels, never from the data
    tel = tel.assign(**{f"_code_{c}": v for c, v in codes.items()})
    out = []
    for machine, g in tel.groupby("machine_id", sort=False):
        n = len(g)
        rows = np.array([n - 1]) if last_only else np.arange(spec.step - 1, n, spec.step)
        if len(rows) == 0:
            continue
        feats = _machine_features(g, spec, sigs, rows, ev_by.get(machine))
        meta = pd.DataFrame({"machine_id": machine, "ts": g["ts"].to_numpy()[rows],
                             "state": g["state"].to_numpy()[rows] if "state" in g else "running"})
        cat = pd.DataFrame({n: g[f"_code_{c}"].to_numpy()[rows] for n, c in zip(cats, spec.categories, strict=True)})
        out.append(pd.concat([meta, pd.DataFrame(feats, columns=names), cat], axis=1))
    if not out:
        return pd.DataFrame(columns=["machine_id", "ts", "state", *names, *cats])
    result = pd.concat(out, ignore_index=True)
    result["ts"] = pd.to_datetime(result["ts"], utc=True)
    return result
