"""Benchmark part (4): LightGBM prediction cost per row, native vs Treelite (GTIL and a
TL2cgen-compiled shared library). lleaves is not measured: it does not build with the
llvmlite pip resolves today (see /work/shared/TOOLCHAIN.md)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np

from pipelines.features import compute
from pipelines.testing.toymodel import CNC_SIGNALS, SMALL_SPEC
from pipelines.training.synthetic import synthetic_history


def _per_row_us(fn: Callable[[np.ndarray], object], x: np.ndarray, repeat: int = 5) -> float:
    fn(x)  # warm-up
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - began)
    return round(best / len(x) * 1e6, 3)


def predict_cost(trees: int = 300) -> dict:
    """µs per row for batches of 1 and 1000 rows, per engine, on a ``trees``-tree binary model."""
    tel, events = synthetic_history(n_machines=3, days=4, seed=0)
    spec = SMALL_SPEC.with_signals(CNC_SIGNALS)
    feats = compute(tel, spec, events)
    x = feats.drop(columns=["machine_id", "ts", "state"]).to_numpy(dtype=float)
    y = (np.nan_to_num(x[:, 1]) > np.nanmedian(x[:, 1])).astype(float)
    booster = lgb.train({"objective": "binary", "num_threads": 1, "verbose": -1, "num_leaves": 31}, lgb.Dataset(x, y),
                        trees)
    batch = np.ascontiguousarray(np.resize(x, (1000, x.shape[1])))
    one = batch[:1]
    out: dict = {"trees": trees, "features": x.shape[1]}
    engines: dict[str, Callable[[np.ndarray], object]] = {"lightgbm": lambda a: booster.predict(a, num_threads=1)}
    try:
        import tl2cgen
        import treelite

        model = treelite.frontend.from_lightgbm(booster)
        engines["treelite_gtil"] = lambda a: treelite.gtil.predict(model, a, nthread=1)
        lib = Path(tempfile.mkdtemp(prefix="lw-tl2cgen-")) / "model.so"
        began = time.perf_counter()
        tl2cgen.export_lib(model, toolchain="gcc", libpath=lib, params={"parallel_comp": 8}, nthread=1)
        out["tl2cgen_compile_s"] = round(time.perf_counter() - began, 1)
        predictor = tl2cgen.Predictor(lib, nthread=1)
        engines["tl2cgen_compiled"] = lambda a: predictor.predict(tl2cgen.DMatrix(a, dtype="float64"))
        ref = booster.predict(batch)
        got = np.asarray(predictor.predict(tl2cgen.DMatrix(batch, dtype="float64"))).reshape(-1)
        out["tl2cgen_max_abs_diff"] = float(np.max(np.abs(ref - got)))
    except ImportError as exc:
        out["treelite"] = f"not installed ({exc.name}); pip install '.[bench]'"
    for name, fn in engines.items():
        out[name] = {"us_per_row_batch_1": _per_row_us(fn, one, 50), "us_per_row_batch_1000": _per_row_us(fn, batch)}
    return out
