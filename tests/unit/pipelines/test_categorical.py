"""Categorical (text) columns: levels learned at training and kept in the bundle, a LightGBM
categorical feature, unseen levels scored as unknown and reported, free text refused (exit 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from byod_support import run_cli

from pipelines.features import FeatureSpec, compute
from pipelines.models import Registry
from pipelines.training.config import TrainConfig
from pipelines.training.importer import events_from_failure_rows, validate_telemetry
from pipelines.training.train import TrainResult, train


def parts(machines: int = 6, rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """One row per part; the product type comes in batches of 5 and only type H parts fail (the
    failure lands on the next row, so a row's own type predicts "fails within 1 cycle")."""
    rng = np.random.default_rng(seed)
    out = []
    for m in range(machines):
        kind = np.repeat(rng.choice(["L", "M", "H"], rows // 5), 5)
        nxt = np.concatenate([kind[1:], kind[-1:]])
        fail = rng.random(rows) < np.where(nxt == "H", 0.4, 0.01)
        fail = np.concatenate([[False], fail[:-1]])
        out.append(pd.DataFrame({"machine_id": f"m{m}", "cycle": np.arange(1, rows + 1), "product_type": kind,
                                 "temp": rng.normal(300, 2, rows), "failure_mode": np.where(fail, "tool", "")}))
    return pd.concat(out, ignore_index=True)


def _train(raw: pd.DataFrame, cats: tuple[str, ...]) -> TrainResult:
    tel = validate_telemetry(raw, categorical=cats)
    cfg = TrainConfig.quick(categorical_columns=cats, protocol="time", task="classify", horizon_hours=1.0, stride=1)
    return train(tel.drop(columns="failure_mode"), events_from_failure_rows(tel), cfg, "line")


@pytest.fixture(scope="module")
def with_type() -> TrainResult:
    return _train(parts(), ("product_type",))


def test_the_category_is_a_lightgbm_categorical_feature_that_carries_the_signal(with_type: TrainResult) -> None:
    b = with_type.bundle
    assert b.feature_spec.categories == {"product_type": ("H", "L", "M")}
    assert "product_type__cat" in b.features and "product_type__last" not in b.features
    dumped = b.classifiers["tool"].dump_model()
    cat_splits = str(dumped["tree_info"]).count("'decision_type': '=='")
    assert cat_splits > 0  # categorical splits (==), not numeric thresholds on the codes
    without = _train(parts().drop(columns="product_type"), ())
    assert with_type.metrics["score"] > without.metrics["score"] + 0.1, (with_type.metrics["score"],
                                                                         without.metrics["score"])


def test_codes_come_from_the_spec_not_from_the_rows() -> None:
    spec = FeatureSpec(windows=(2,), baseline_rows=2, step=1, categories={"product_type": ("H", "L", "M")})
    tel = pd.DataFrame({"machine_id": "m", "cycle": [1, 2, 3, 4], "temp": [1.0, 2, 3, 4],
                        "product_type": ["M", "X", None, "H"]})
    feats = compute(tel, spec)
    assert feats["product_type__cat"].tolist()[0] == 2.0 and feats["product_type__cat"].tolist()[3] == 0.0
    assert feats["product_type__cat"].isna().tolist() == [False, True, True, False]  # unseen and empty: unknown
    assert not any(c.startswith("product_type__") and c != "product_type__cat" for c in feats.columns)
    # a chunk that happens to hold one level gets the same code (no per-chunk inference)
    assert compute(tel.iloc[:1], spec)["product_type__cat"].tolist() == [2.0]


@pytest.fixture
def registry(tmp_path: Path, with_type: TrainResult, monkeypatch: pytest.MonkeyPatch) -> Registry:
    reg = Registry(tmp_path / "registry")
    reg.promote(reg.register(with_type.bundle, {"score": 0.5, "holdout_id": "x"}, {}), force=True)
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "registry"))
    return reg


def test_predict_reports_unseen_categories_and_chunks_match_the_whole_file(
        registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = parts(machines=2, rows=300, seed=1).drop(columns="failure_mode")
    raw.loc[[10, 11, 400], "product_type"] = "XL"  # not seen in training
    raw.loc[raw.index >= 450, "product_type"] = "L"  # the last chunks hold one level only
    raw.to_csv(tmp_path / "t.csv", index=False)
    outs = []
    for rows in ("100", "100000"):
        code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "t.csv"), "--kind", "line",
                               "--no-explain", "--chunk-rows", rows, "-o", str(tmp_path / f"p{rows}.csv"))
        assert code == 0, err
        assert "column 'product_type': 3 rows with a category not seen in training" in " ".join(err.split())
        assert "'XL' (3)" in err
        outs.append((tmp_path / f"p{rows}.csv").read_text())
    assert outs[0] == outs[1]
    pred = pd.read_csv(tmp_path / "p100.csv")
    assert len(pred) == 600 and pred["p_tool"].notna().all()
    # type H rows score higher than L rows: the codes were mapped from the bundle in every chunk
    typ = raw["product_type"].to_numpy()
    assert pred["p_tool"][typ == "H"].mean() > 2 * pred["p_tool"][typ == "L"].mean()


@pytest.mark.parametrize(("change", "args", "message"), [
    ("free_text", ["--categorical", "product_type"],
     "categorical column 'product_type' has 60 distinct values (more than 50"),
    ("none", [], "column 'product_type' must be numeric; row 1 has 'H' (120 such rows)"),
    ("drop", ["--categorical", "colour"], "--categorical colour: no such column"),
])
def test_bad_categorical_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch, change: str, args: list[str],
                                                  message: str) -> None:
    raw = parts(machines=2, rows=60)
    if change == "free_text":
        raw["product_type"] = [f"note {i % 60}" for i in range(len(raw))]
    if change == "drop":
        raw = raw.drop(columns="product_type")
    raw.to_csv(tmp_path / "t.csv", index=False)
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "registry"))
    code, _, err = run_cli(capsys, monkeypatch, "train", "--telemetry", str(tmp_path / "t.csv"), "--kind", "line",
                           *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and message in " ".join(err.split()), err
    assert len(lines) == 1 or " ".join(err.split()).startswith("error:"), err


def test_import_check_accepts_a_declared_categorical_column(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    parts(machines=2, rows=60).to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "import-check", str(tmp_path / "t.csv"))
    assert code == 2 and "--categorical product_type" in " ".join(err.split())
    code, _, err = run_cli(capsys, monkeypatch, "import-check", str(tmp_path / "t.csv"),
                           "--categorical", "product_type")
    assert code == 0, err


def test_predict_explanations_name_the_level_not_its_code(registry: Registry, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from contracts.messages import Factor
    from pipelines.health.text import factor_sentence

    cats = {"product_type": ("H", "L", "M")}
    assert factor_sentence([Factor(feature="product_type__cat", contribution=0.4, value=0.0)], cats)[0] == \
        "Main factors: product_type H."
    assert "product_type: unknown category" in factor_sentence(
        [Factor(feature="product_type__cat", contribution=0.4, value=None)], cats)[0]
    parts(machines=1, rows=200, seed=3).drop(columns="failure_mode").to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "t.csv"), "--kind", "line",
                           "-o", str(tmp_path / "p.csv"))
    text = " ".join(pd.read_csv(tmp_path / "p.csv")["explanation"].dropna())
    assert code == 0, err
    assert "product_type H" in text and "cat" not in text.replace("categor", "")
