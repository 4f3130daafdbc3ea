"""Training on a Dask cluster (``linewatch train --dask SCHEDULER_ADDRESS`` or ``--dask local``).

The single-process code path stays the one definition; this module only swaps two
engines while a cluster is in use (``with on_dask(client): train(...)``):

- **features**: one Dask task per machine (``pipelines.features.compute`` on that
  machine's rows and events), gathered in machine order — the same rows and numbers as
  ``compute`` over the whole table, because features never cross machines;
- **boosters**: ``lightgbm.dask`` (``DaskLGBMClassifier`` / ``DaskLGBMRegressor``) on the
  fit rows split over the workers, evaluated on the validation slice every round; the
  booster is cut at its best validation round (what early stopping returns in-process).

Calibration, thresholds and evaluation run where they did (small arrays, in the client).
Needs the extra ``linewatch[dask]`` (installed by ``scripts/setup.sh``).
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Iterator
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from pipelines.features import FeatureSpec, compute

_CLIENT: contextvars.ContextVar[Any] = contextvars.ContextVar("linewatch_dask_client", default=None)


def client() -> Any:
    """The Dask client training runs on, or None (in-process)."""
    return _CLIENT.get()


@contextlib.contextmanager
def on_dask(dask_client: Any) -> Iterator[Any]:
    """Run feature computation and booster fitting on ``dask_client`` inside the block."""
    token = _CLIENT.set(dask_client)
    try:
        yield dask_client
    finally:
        _CLIENT.reset(token)


@contextlib.contextmanager
def connect(address: str, workers: int = 2, memory_limit: str = "auto") -> Iterator[Any]:
    """A client for ``address`` (``tcp://host:8786``), or a ``LocalCluster`` for ``local``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise RuntimeError("--dask needs the dask extra: pip install 'linewatch[dask]'") from exc
    if address == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                          dashboard_address=None) as cluster, Client(cluster) as c:
            yield c
    else:
        with Client(address) as c:
            yield c


def _machine_features(telemetry: pd.DataFrame, spec: FeatureSpec, events: pd.DataFrame | None) -> pd.DataFrame:
    return compute(telemetry, spec, events)


def features(telemetry: pd.DataFrame, spec: FeatureSpec, events: pd.DataFrame | None) -> pd.DataFrame:
    """``compute`` over the whole table, in-process or as one Dask task per machine."""
    c = client()
    if c is None:
        return compute(telemetry, spec, events)
    ev_by = dict(tuple(events.groupby("machine_id", sort=False))) if events is not None and len(events) else {}
    groups = sorted(telemetry.groupby("machine_id", sort=True), key=lambda kv: kv[0])  # compute's machine order
    futures = [c.submit(_machine_features, c.scatter(g), spec, ev_by.get(m), key=f"features-{i}")
               for i, (m, g) in enumerate(groups)]
    parts = [f for f in c.gather(futures) if len(f)]
    if not parts:
        return compute(telemetry, spec, events)
    return pd.concat(parts, ignore_index=True)


def fit_booster(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, objective: str,
                params: dict[str, Any], max_rounds: int, seed: int, valid: bool, **extra: Any) -> lgb.Booster:
    """``lightgbm.dask`` fit over the cluster's workers; cut at the best validation round."""
    import dask.array as da
    from lightgbm.dask import DaskLGBMClassifier, DaskLGBMRegressor

    c = client()
    workers = max(1, len(c.scheduler_info()["workers"]))
    rows = max(1, -(-len(x) // workers))
    p = {k: v for k, v in (params | {"objective": objective, "seed": seed, "deterministic": True} | extra).items()
         if k != "num_threads"}
    model_cls = DaskLGBMClassifier if objective == "binary" else DaskLGBMRegressor
    model = model_cls(client=c, n_estimators=max_rounds, **p)
    kw: dict[str, Any] = {}
    if valid:
        kw["eval_set"] = [(da.from_array(xv, chunks=(max(1, -(-len(xv) // workers)), xv.shape[1])),
                           da.from_array(yv, chunks=max(1, -(-len(yv) // workers))))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(da.from_array(x, chunks=(rows, x.shape[1])), da.from_array(y, chunks=rows), **kw)
    booster = model.booster_
    if valid and model.evals_result_:
        curve = next(iter(next(iter(model.evals_result_.values())).values()))
        best = int(np.argmin(curve)) + 1  # every default metric here is lower-is-better
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return booster
