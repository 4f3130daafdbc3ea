"""Batch prediction on a history file: the same features and bundle as the streaming scorer.

:func:`predict_frames` walks a table in the import format chunk by chunk (rows sorted by
machine, then time) and keeps, per machine, only the last ``feature_spec.max_window`` rows
as history, so memory is bounded by chunk size + machines × window, not by file size. The
kept rows are copied out of their chunk (:func:`_own`): a slice of a pyarrow-backed column
would otherwise keep the whole chunk's buffers alive, one chunk per machine.
Every output row is computed by :func:`pipelines.features.compute` on exactly the rows
the streaming worker would hold in its window, then ``bundle.predict`` / ``bundle.explain``
and :func:`pipelines.health.health`, as in ``pipelines.scoring.engine``.

Pure: no Kafka, no database; the caller reads and writes files (``linewatch predict``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from contracts.errors import ContractError
from contracts.failure_modes import PLANNING_LEAD_H
from pipelines.features import compute
from pipelines.features.windows import unseen_categories
from pipelines.health import health
from pipelines.health.text import factor_sentence
from pipelines.models.bundle import ModelBundle

At = Literal["row", "last"]
BundleFor = Callable[[str], ModelBundle]  # machine_id -> bundle (raises ContractError if none)


@dataclass
class PredictOptions:
    """What to emit: every ``stride``-th row per machine, or each machine's last row."""

    at: At = "row"
    stride: int = 1
    explain: bool = True
    top_k: int = 3


def _rul_scale(bundle: ModelBundle, cycles: bool) -> float:
    """Hours -> the data's own unit (cycles for cycle-counted data)."""
    return 3600.0 / bundle.feature_spec.cycle_seconds if cycles else 1.0


def score_rows(bundle: ModelBundle, feats: pd.DataFrame, opts: PredictOptions, cycles: bool) -> pd.DataFrame:
    """Predictions for feature rows: probabilities, RUL with interval, defect, anomaly, health, sentence."""
    preds = bundle.predict(feats).reset_index(drop=True)
    out = pd.DataFrame({"machine_id": feats["machine_id"].to_numpy()})
    out["model_version"] = bundle.version
    scored = bundle.scored_modes  # a mode without validated skill: its p is shown, it never alarms nor counts
    for m in bundle.modes:
        out[f"p_{m}"] = preds[f"p_{m}"].to_numpy()
        out[f"alarm_{m}"] = (preds[f"p_{m}"].to_numpy() >= bundle.thresholds[m]) & (m in scored)
    k = _rul_scale(bundle, cycles)
    for src, dst in (("rul_hours", "rul"), ("rul_low_hours", "rul_low"), ("rul_high_hours", "rul_high")):
        out[dst] = np.maximum(preds[src].to_numpy(dtype=float), 0.0) * k
    out["rul_unit"] = "cycles" if cycles else "hours"
    out["rul_mode"] = preds["rul_mode"].to_numpy()
    out["defect_risk"] = preds["defect_risk"].to_numpy(dtype=float)
    out["anomaly_score"] = preds["anomaly_score"].to_numpy(dtype=float)
    probs = preds[[f"p_{m}" for m in scored]].to_numpy(dtype=float)
    rul_h = preds["rul_hours"].to_numpy(dtype=float)
    leads = {m: PLANNING_LEAD_H[m] for m in scored if m in PLANNING_LEAD_H}
    out["health"] = [health({m: float(p[j]) for j, m in enumerate(scored)},
                            float(r) if math.isfinite(r) else None, bundle.horizon_hours, bundle.mode_horizons_h,
                            leads, rm if isinstance(rm, str) else None)
                     for p, r, rm in zip(probs, rul_h, preds["rul_mode"].to_numpy(), strict=True)]
    if opts.explain and len(feats):
        cats = bundle.feature_spec.categories
        out["explanation"] = [factor_sentence(fs, cats)[0]
                              for fs in bundle.explain(feats.reset_index(drop=True), opts.top_k)]
    else:
        out["explanation"] = ""
    return out


@dataclass
class _Machine:
    tail: pd.DataFrame  # the last max_window rows seen
    rows: int = 0  # rows seen so far (for the stride)


@dataclass
class PredictState:
    """History kept between chunks: per machine the last window of rows."""

    machines: dict[str, _Machine] = field(default_factory=dict)
    rows_in: int = 0
    rows_out: int = 0
    unseen: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> value -> rows (scored as unknown)


def _check_continuation(chunk: pd.DataFrame, state: PredictState, first_row: int, what: str) -> None:
    """A machine that continues from an earlier chunk must move forward in time."""
    firsts = chunk.drop_duplicates("machine_id")
    for i, (machine, ts) in zip(firsts.index, zip(firsts["machine_id"], firsts["ts"], strict=True), strict=True):
        prev = state.machines.get(machine)
        if prev is not None and len(prev.tail) and ts <= prev.tail["ts"].iloc[-1]:
            problem = "duplicate time" if ts == prev.tail["ts"].iloc[-1] else "time goes backwards"
            raise ContractError(f"{what}: {problem} for machine {machine!r} at row {first_row + int(i)} ({ts}); "
                                "rows must be sorted by machine_id then time, each (machine, time) once")


def _with_history(chunk: pd.DataFrame, state: PredictState) -> tuple[pd.DataFrame, np.ndarray]:
    """Each machine's kept tail followed by its new rows; mask of the new rows."""
    parts, new = [], []
    for machine, g in chunk.groupby("machine_id", sort=False):
        prev = state.machines.get(machine)
        if prev is not None and len(prev.tail):
            parts.append(prev.tail)
            new.append(np.zeros(len(prev.tail), bool))
        parts.append(g)
        new.append(np.ones(len(g), bool))
    frame = pd.concat(parts, ignore_index=True) if parts else chunk
    return frame, np.concatenate(new) if new else np.zeros(0, bool)


def _own(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy that shares no buffer with ``frame`` (``copy()`` keeps arrow-backed slices shared)."""
    out = frame.reset_index(drop=True).copy()
    at = np.arange(len(out))
    for c in out.columns:
        if not isinstance(out[c].dtype, np.dtype):  # extension arrays (pyarrow strings): take() builds new buffers
            out[c] = out[c].array.take(at)
    return out


def _update(chunk: pd.DataFrame, state: PredictState, keep: Callable[[str], int]) -> None:
    """Keep each machine's last window of rows (in memory of its own) and count its rows."""
    for machine, g in chunk.groupby("machine_id", sort=False):
        m = state.machines.get(machine)
        if m is None:
            m = state.machines[machine] = _Machine(_own(g.iloc[:0]))
        both = pd.concat([m.tail, g], ignore_index=True) if len(m.tail) else g
        m.tail = _own(both.iloc[-keep(machine):])
        m.rows += len(g)


def _per_kind(frame: pd.DataFrame, bundle_for: BundleFor) -> Iterator[tuple[ModelBundle, pd.DataFrame]]:
    bundles = {m: bundle_for(m) for m in frame["machine_id"].unique()}
    versions = pd.Series({m: b.version or id(b) for m, b in bundles.items()})
    for v in versions.unique():
        machines = versions.index[versions == v]
        yield bundles[machines[0]], frame[frame["machine_id"].isin(machines)]


def predict_chunk(chunk: pd.DataFrame, state: PredictState, bundle_for: BundleFor, opts: PredictOptions,
                  events: pd.DataFrame | None = None, first_row: int = 1, what: str = "telemetry") -> pd.DataFrame:
    """Feed one validated chunk (``machine_id``, ``ts``[, ``cycle``], signals); per-row predictions out.

    With ``opts.at == "last"`` nothing is returned here (call :func:`predict_last` at the end).
    """
    if chunk.empty:
        return pd.DataFrame()
    _check_continuation(chunk, state, first_row, what)
    state.rows_in += len(chunk)
    for bundle, part in _per_kind(chunk, bundle_for):
        for col, values in unseen_categories(part, bundle.feature_spec).items():
            counts = state.unseen.setdefault(col, {})
            for value, n in values.items():
                counts[value] = counts.get(value, 0) + n
    keep = lambda m: bundle_for(m).feature_spec.max_window
    if opts.at == "last":
        _update(chunk, state, keep)
        return pd.DataFrame()
    frame, new = _with_history(chunk, state)
    seen = {m: (state.machines[m].rows if m in state.machines else 0) for m in chunk["machine_id"].unique()}
    frame = frame.assign(_new=new)
    # 1-based row number of every new row within its machine, across chunks (for the stride)
    frame["_n"] = frame.groupby("machine_id", sort=False)["_new"].cumsum() + frame["machine_id"].map(seen)
    outs = []
    time_col = "cycle" if "cycle" in chunk else "ts"
    for bundle, part in _per_kind(frame, bundle_for):
        part = part.sort_values(["machine_id", "ts"], kind="stable")  # the order compute returns
        feats = compute(part.drop(columns=["_new", "_n"]), bundle.feature_spec.model_copy(update={"step": 1}), events)
        pick = part["_new"].to_numpy() & (part["_n"].to_numpy() % opts.stride == 0)
        feats = feats.loc[pick].reset_index(drop=True)
        if len(feats):
            res = score_rows(bundle, feats, opts, time_col == "cycle")
            res.insert(1, time_col, part.loc[pick, time_col].to_numpy())
            outs.append(res)
    _update(chunk, state, keep)
    out = pd.concat(outs, ignore_index=True) if outs else pd.DataFrame()
    state.rows_out += len(out)
    return out


def predict_last(state: PredictState, bundle_for: BundleFor, opts: PredictOptions,
                 events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per machine: the prediction at its last row (``--at last``)."""
    tails = [m.tail for m in state.machines.values() if len(m.tail)]
    if not tails:
        return pd.DataFrame()
    frame = pd.concat(tails, ignore_index=True)
    outs = []
    for bundle, part in _per_kind(frame, bundle_for):
        feats = compute(part, bundle.feature_spec, events, last_only=True)
        res = score_rows(bundle, feats, opts, "cycle" in part)
        col = "cycle" if "cycle" in part else "ts"
        lasts = part.groupby("machine_id", sort=False)[col].last()
        res.insert(1, col, res["machine_id"].map(lasts).to_numpy())
        outs.append(res)
    out = pd.concat(outs, ignore_index=True).sort_values("machine_id", kind="stable").reset_index(drop=True)
    state.rows_out += len(out)
    return out


def predict_frames(chunks: Iterable[tuple[int, pd.DataFrame]], bundle_for: BundleFor, opts: PredictOptions,
                   events: pd.DataFrame | None = None, state: PredictState | None = None) -> Iterator[pd.DataFrame]:
    """All predictions for a sequence of ``(first_row, chunk)``: per-row batches, or one batch at the end."""
    state = state if state is not None else PredictState()
    for first_row, chunk in chunks:
        out = predict_chunk(chunk, state, bundle_for, opts, events, first_row)
        if len(out):
            yield out
    if opts.at == "last":
        yield predict_last(state, bundle_for, opts, events)
