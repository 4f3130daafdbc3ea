"""Batch prediction: chunked streaming gives exactly the whole-table features and predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts.errors import ContractError
from pipelines.features import compute
from pipelines.models import ModelBundle
from pipelines.predict import PredictOptions, PredictState, predict_chunk, predict_frames, score_rows


@pytest.fixture
def history(small_history: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return small_history


@pytest.fixture
def bundle(small_bundle: ModelBundle) -> ModelBundle:
    return small_bundle


def _chunks(tel: pd.DataFrame, size: int) -> list[tuple[int, pd.DataFrame]]:
    return [(i + 1, tel.iloc[i:i + size].reset_index(drop=True)) for i in range(0, len(tel), size)]


def test_chunked_rows_equal_whole_table(history: tuple[pd.DataFrame, pd.DataFrame], bundle: ModelBundle) -> None:
    tel, ev = history
    tel = tel.iloc[:3000]  # two machines, chunk borders inside a machine and across machines
    opts = PredictOptions(explain=False)
    out = pd.concat(list(predict_frames(_chunks(tel, 97), lambda m: bundle, opts, ev)), ignore_index=True)
    whole = score_rows(bundle, compute(tel, bundle.feature_spec.model_copy(update={"step": 1}), ev), opts, False)
    assert len(out) == len(tel)
    cols = [c for c in whole.columns if c != "explanation"]
    pd.testing.assert_frame_equal(out[cols], whole[cols], check_exact=False, rtol=1e-9)
    assert out["health"].between(0, 100).all() and (out["rul_low"] <= out["rul"]).all()


def test_stride_and_last(history: tuple[pd.DataFrame, pd.DataFrame], bundle: ModelBundle) -> None:
    tel, ev = history
    strided = pd.concat(list(predict_frames(_chunks(tel, 500), lambda m: bundle,
                                            PredictOptions(stride=7, explain=False), ev)))
    per_machine = tel.groupby("machine_id").size()
    assert strided.groupby("machine_id").size().to_dict() == (per_machine // 7).to_dict()
    last = list(predict_frames(_chunks(tel, 333), lambda m: bundle, PredictOptions(at="last"), ev))[-1]
    assert last["machine_id"].tolist() == sorted(tel["machine_id"].unique())
    expect = bundle.predict(compute(tel, bundle.feature_spec, ev, last_only=True))
    np.testing.assert_allclose(last[f"p_{bundle.modes[0]}"], expect[f"p_{bundle.modes[0]}"], rtol=1e-9)
    assert last["explanation"].str.startswith("Main factors:").all()
    assert (last["ts"].to_numpy() == tel.groupby("machine_id")["ts"].max().to_numpy()).all()


def test_cycle_data_gives_rul_in_cycles(history: tuple[pd.DataFrame, pd.DataFrame], bundle: ModelBundle) -> None:
    tel = history[0].iloc[:400].drop(columns=["ts"])
    tel.insert(1, "cycle", np.arange(len(tel)) + 1)
    from pipelines.features import with_ts

    out = list(predict_frames([(1, with_ts(tel))], lambda m: bundle, PredictOptions(at="last", explain=False)))[-1]
    assert out["cycle"].tolist() == [400] and out["rul_unit"].tolist() == ["cycles"]


def test_time_going_back_between_chunks_names_the_row(history: tuple[pd.DataFrame, pd.DataFrame],
                                                      bundle: ModelBundle) -> None:
    tel = history[0].iloc[:200].reset_index(drop=True)
    state = PredictState()
    predict_chunk(tel.iloc[:100].reset_index(drop=True), state, lambda m: bundle, PredictOptions(explain=False))
    again = tel.iloc[99:150].reset_index(drop=True)
    with pytest.raises(ContractError, match=r"duplicate time for machine 'line-1/cnc-01' at row 100"):
        predict_chunk(again, state, lambda m: bundle, PredictOptions(explain=False), first_row=100)


def test_kept_history_does_not_pin_the_chunk(history: tuple[pd.DataFrame, pd.DataFrame], bundle: ModelBundle) -> None:
    """The window kept per machine owns its memory: a slice of a pyarrow-backed column would keep
    the whole chunk's buffers alive (one chunk per machine: memory growing with the file)."""
    import gc

    import pyarrow as pa

    base = pa.total_allocated_bytes()
    rows = 400_000
    big = pd.DataFrame({"machine_id": pd.array([f"line-1/cnc-{i % 3 + 1:02d}" for i in range(rows)], dtype="str"),
                        "ts": pd.date_range("2026-01-01", periods=rows, freq="1min", tz="UTC"),
                        "state": pd.array(["running"] * rows, dtype="str"),
                        "spindle_power_kw": np.ones(rows)}).sort_values("machine_id", kind="stable")
    assert big["machine_id"].dtype.storage == "pyarrow"  # what the readers give (pandas 3 default strings)
    held = pa.total_allocated_bytes() - base
    state = PredictState()
    predict_chunk(big.reset_index(drop=True), state, lambda m: bundle, PredictOptions(at="last"))
    del big
    gc.collect()
    assert held > 5_000_000 and pa.total_allocated_bytes() - base < held / 20
    assert [len(m.tail) for m in state.machines.values()] == [bundle.feature_spec.max_window] * 3
