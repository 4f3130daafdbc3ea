"""Fitting pieces on mostly-missing data: no numpy warning floods the training output."""

from __future__ import annotations

import warnings

import numpy as np

from pipelines.training.fitting import normal_ranges, robust_baseline


def test_a_feature_never_measured_on_healthy_rows_is_left_out_without_a_warning() -> None:
    x = np.column_stack([np.arange(10.0), np.full(10, np.nan)])
    names = ["s1__mean_5", "s2__mean_5"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "All-NaN slice encountered" used to be printed once per call
        base = robust_baseline(x, names)
        ranges = normal_ranges(x, names)
    assert base["features"] == ["s1__mean_5"] and base["center"] == [4.5]
    assert list(ranges) == ["s1__mean_5"]
