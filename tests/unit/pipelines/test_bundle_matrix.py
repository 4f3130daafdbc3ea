"""``ModelBundle.predict_matrix`` (the scorer's path) gives what ``predict`` gives, column for column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.testing.toymodel import toy_bundle


def test_predict_matrix_equals_predict_with_reordered_and_missing_columns() -> None:
    bundle = toy_bundle("cnc")
    rng = np.random.default_rng(3)
    names = list(bundle.features)
    # its own anomaly reference (the toy has none), with a feature the matrix never has
    bundle.anomaly = {"features": [names[5], names[0], "not_a_feature"], "center": [1.0, 2.0, 3.0],
                      "scale": [2.0, 0.5, 1.0]}
    x = rng.normal(size=(7, len(names))) * 5 + 10
    x[2, 4] = np.nan
    # as given, reversed, columns missing, one row
    cases = [(x, names), (x[:, ::-1], names[::-1]), (x[:, 3:], names[3:]), (x[:1], names)]
    for matrix, cols in cases:
        want = bundle.predict(pd.DataFrame(matrix, columns=cols))
        got = bundle.predict_matrix(matrix, cols)
        assert list(got) == list(want.columns)
        for c in want.columns:
            assert len(got[c]) == len(matrix)
            if c == "rul_mode":
                assert list(got[c]) == list(want[c]) and all(isinstance(v, str) for v in got[c])
            else:
                np.testing.assert_array_equal(got[c], want[c].to_numpy(dtype=float), err_msg=c)
    assert np.isfinite(bundle.predict_matrix(x, names)["anomaly_score"]).all()
