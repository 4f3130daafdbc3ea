"""Training on a Dask cluster (``linewatch train --dask``): a LocalCluster with 2 workers
gives the same features, and a holdout score no worse than in-process training.

Distributed LightGBM finds its histogram bins from each worker's share of the rows, so its
boosters (and then the hyperparameter search's pick) differ from one process's; what
distributing must never do is cost quality. Better by chance is not a failure.

The history is sized so that holdout noise stays well inside the tolerance. On 3 machines x 6
days the holdout held a handful of failures per mode, and repeated Dask fits of the same data
scored 0.79-0.91 against 0.85 alone (which worker gets which rows changes per run), so a CI run
failed by chance. On 8 machines x 20 days, Dask minus alone was -0.012, -0.001 and +0.001 for
history seeds 5, 6 and 7."""

from __future__ import annotations

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from pipelines.features import compute
from pipelines.training import distributed
from pipelines.training.config import TrainConfig
from pipelines.training.synthetic import synthetic_history
from pipelines.training.train import train

pytestmark = pytest.mark.integration


def test_dask_training_matches_single_process_training() -> None:
    tel, ev = synthetic_history(n_machines=8, days=20, seed=5)
    cfg = TrainConfig.quick(horizon_hours=12, rul_cap_hours=48, max_rounds=30, min_failures=2)
    alone = train(tel, ev, cfg, "cnc")
    spec = alone.bundle.feature_spec
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client, distributed.on_dask(client):
        assert len(client.scheduler_info()["workers"]) == 2
        per_machine = distributed.features(tel, spec, ev)  # one task per machine
        on_dask = train(tel, ev, cfg, "cnc")
    pd.testing.assert_frame_equal(per_machine, compute(tel, spec, ev))
    assert on_dask.bundle.modes == alone.bundle.modes
    assert on_dask.data_range["feature_rows"] == alone.data_range["feature_rows"]
    # the holdout score (mean PR-AUC over modes, held-out time and machines): not worse by more than noise
    assert alone.metrics["score"] > 0.3 and on_dask.metrics["score"] > 0.3
    assert on_dask.metrics["score"] >= alone.metrics["score"] - 0.05, (on_dask.metrics["score"],
                                                                        alone.metrics["score"])
