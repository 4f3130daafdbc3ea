"""A tiny trained bundle shared by the batch-prediction tests (trained once per session)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.features import FeatureSpec
from pipelines.models import ModelBundle
from pipelines.training.config import TrainConfig
from pipelines.training.synthetic import synthetic_history
from pipelines.training.train import train


@pytest.fixture(scope="session")
def small_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_history(n_machines=3, days=3, seed=5)


@pytest.fixture(scope="session")
def small_bundle(small_history: tuple[pd.DataFrame, pd.DataFrame]) -> ModelBundle:
    cfg = TrainConfig.quick(horizon_hours=12, rul_cap_hours=48, max_rounds=30, min_failures=2,
                            window_candidates=[(5, 20)], spec=FeatureSpec(baseline_rows=30, step=5))
    b = train(*small_history, cfg, "cnc").bundle
    b.version = "cnc-test"
    return b

