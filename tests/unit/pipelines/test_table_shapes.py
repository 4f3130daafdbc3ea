"""The public benchmark shapes, generated here (``table_shapes``), through the documented commands:
each learns its known signal on held-out groups or later time, beside no-skill and plain LightGBM,
or stops with one line and exit 2 naming the column/row and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from byod_support import run_cli
from table_shapes import process_table, product_failures, single_condition_fleet, tool_wear_runs

from pipelines.training.config import TrainConfig
from pipelines.training.importer import events_from_failure_rows, validate_telemetry
from pipelines.training.table_model import TableModel, evaluate, folds
from pipelines.training.tables import TableError, TableSpec, prepare
from pipelines.training.train import train

LEAKY = ("TWF", "HDF", "PWF", "OSF", "RNF")
PARTS = TableSpec(label="Machine failure", time="UDI", categorical=("Type",), ignore=("Product ID", *LEAKY))
SECOM = TableSpec(label="pass_fail", time="timestamp")
RUNS = TableSpec(label="tool_condition", group="experiment", time="time_s", categorical=("material",),
                 positive="worn", per_run=True, ignore=("flank_wear_mm",))
WEAR = TableSpec(label="flank_wear_mm", group="experiment", time="time_s", categorical=("material",),
                 per_run=True, ignore=("tool_condition",))


def test_single_condition_fleet_beats_constant_and_plain_lightgbm_on_held_out_units() -> None:
    tel = validate_telemetry(single_condition_fleet(units=20, seed=1))
    cfg = TrainConfig.quick(horizon_hours=30, rul_cap_hours=125, max_rounds=80)
    m = train(tel.drop(columns="failure_mode"), events_from_failure_rows(tel), cfg, "fd001").metrics
    rul = m["rul"]
    assert m["protocol"] == "units" and m["held_out_units"] == 20 and m["folds"] == 5
    assert rul["model"]["rmse"] < 0.6 * rul["constant"]["rmse"], rul
    assert rul["model"]["rmse"] < rul["plain_lightgbm"]["rmse"], rul


@pytest.fixture(scope="module")
def parts() -> pd.DataFrame:
    return product_failures(rows=4000, seed=2)


def test_product_table_learns_beside_the_baselines_and_the_type_is_a_category(parts: pd.DataFrame) -> None:
    p = prepare(parts, PARTS)
    assert p.categories == {"Type": ("H", "L", "M")}
    m, held, _, _ = evaluate(p)
    mo, ns = m["methods"]["model"], m["methods"]["no_skill"]
    assert m["split"] == "time" and mo["rows"] == 1000
    assert mo["pr_auc"] > 0.5 > 3 * ns["pr_auc"], m["methods"]
    assert mo["pr_auc"] >= m["methods"]["plain_lightgbm"]["pr_auc"] - 0.05, m["methods"]


def test_train_predict_cli_names_the_category_in_explanations(parts: pd.DataFrame, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    parts.to_csv(tmp_path / "parts.csv", index=False)
    code, out, err = run_cli(capsys, monkeypatch, "table", "train", str(tmp_path / "parts.csv"), "--label",
                             "Machine failure", "--time", "UDI", "--categorical", "Type", "--ignore",
                             "Product ID," + ",".join(LEAKY), "--out", str(tmp_path / "model"))
    assert code == 0, err
    assert "no_skill" in out and "plain_lightgbm" in out
    model = TableModel.load(tmp_path / "model")
    assert "'decision_type': '=='" in str(model.booster.dump_model()["tree_info"])  # category splits
    parts.drop(columns="Machine failure").head(300).to_csv(tmp_path / "new.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "table", "predict", str(tmp_path / "new.csv"), "--model",
                           str(tmp_path / "model"), "-o", str(tmp_path / "pred.csv"))
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert code == 0, err
    assert len(pred) == 300 and pred["p_failure"].between(0, 1).all()
    assert pred["explanation"].str.count("=").eq(3).all()  # three factors per row
    named = model.explain(parts.head(20), top=len(model.columns))
    assert all(any(f"Type={t} (" in e for t in "LMH") for e in named)  # the level's text, not its code
    parts.drop(columns="Torque [Nm]").head(5).to_csv(tmp_path / "short.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "table", "predict", str(tmp_path / "short.csv"), "--model",
                           str(tmp_path / "model"))
    assert code == 2 and "column(s) ['Torque [Nm]'] of the model are missing" in " ".join(err.split()), err


def test_process_table_drops_junk_maps_minus_one_and_holds_out_the_latest_wafers() -> None:
    p = prepare(process_table(rows=1000, columns=250, seed=3), SECOM)
    assert any("coded -1/1" in n for n in p.notes) and set(np.unique(p.y)) == {0.0, 1.0}
    f = folds(p)[0]
    assert p.order is not None and p.order[f.test].min() > p.order[f.valid].max() > p.order[f.fit].max() - 1
    m, _, _, _ = evaluate(p)
    assert any("dropped 5 empty and 20 constant" in n for n in m["notes"]), m["notes"]
    assert m["methods"]["model"]["pr_auc"] > 3 * m["methods"]["no_skill"]["pr_auc"], m["methods"]


def test_the_threshold_is_chosen_on_validation_rows_only() -> None:
    p = prepare(process_table(rows=600, columns=250, seed=4), SECOM)
    test = folds(p)[0].test
    _, _, _, before = evaluate(p)
    p.y[test] = 1 - p.y[test]  # whatever the held-out labels are, the threshold does not move
    _, _, _, after = evaluate(p)
    assert before == after


@pytest.fixture(scope="module")
def runs() -> tuple[pd.DataFrame, pd.DataFrame]:
    return tool_wear_runs(runs=40, rows=40, seed=5)


def test_tool_wear_runs_are_one_row_per_run_held_out_by_run(runs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    samples, table = runs
    p = prepare(samples, RUNS, runs=table)
    assert len(p.y) == 40 and p.groups is not None and sorted(p.groups) == sorted(table["experiment"])
    assert "S1_Vibration__mean" in p.x.columns and "feedrate" in p.x.columns and "material" in p.categories
    fs = folds(p)
    assert sorted(np.concatenate([f.test for f in fs]).tolist()) == list(range(40))  # every run tested once
    for f in fs:
        assert not set(p.groups[f.test]) & set(p.groups[np.concatenate([f.fit, f.valid])])
    m, _, _, _ = evaluate(p)
    mo = m["methods"]["model"]
    assert mo["pr_auc"] > m["methods"]["no_skill"]["pr_auc"] + 0.3, m["methods"]
    assert mo["pr_auc"] > m["methods"]["plain_lightgbm"]["pr_auc"], m["methods"]


def test_a_numeric_run_target_is_a_regression_beside_constant_and_plain(
        ) -> None:
    samples, table = tool_wear_runs(runs=80, rows=40, seed=7)
    p = prepare(samples, WEAR, runs=table)
    assert p.task == "regress" and any("regression" in n for n in p.notes)
    m, _, _, _ = evaluate(p)
    rmse = {k: v["rmse"] for k, v in m["methods"].items()}
    assert rmse["model"] < 0.7 * rmse["no_skill"], rmse
    assert rmse["model"] < rmse["plain_lightgbm"], rmse


def test_per_run_predict_writes_one_row_per_run(runs: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    samples, table = runs
    args = ["--group", "experiment", "--time", "time_s", "--per-run", "--categorical", "material",
            "--runs", _csv(tmp_path, "runs.csv", table)]
    code, out, err = run_cli(capsys, monkeypatch, "table", "train", _csv(tmp_path, "s.csv", samples), "--label",
                             "tool_condition", "--positive", "worn", "--ignore", "flank_wear_mm", *args,
                             "--out", str(tmp_path / "m"))
    assert code == 0, err
    new = table.drop(columns=["tool_condition", "flank_wear_mm"]).iloc[:5]
    code, out, err = run_cli(capsys, monkeypatch, "table", "predict", _csv(tmp_path, "new.csv",
                                                                          samples[samples["experiment"].isin(
                                                                              new["experiment"])]),
                             "--model", str(tmp_path / "m"), "--runs", _csv(tmp_path, "newruns.csv", new))
    assert code == 0, err
    pred = pd.read_csv(__import__("io").StringIO(out))
    assert pred["experiment"].tolist() == new["experiment"].tolist() and pred["alarm"].dtype == bool


def _csv(tmp_path: Path, name: str, frame: pd.DataFrame) -> str:
    frame.to_csv(tmp_path / name, index=False)
    return str(tmp_path / name)


@pytest.mark.parametrize("case, args, message", [
    ("parts", ["--label", "Machine failure", "--time", "UDI"],
     "column 'Product ID' is text (row 1: 'L47000', 300 distinct values); give --ignore 'Product ID'"),
    ("parts", ["--label", "Machine failure", "--time", "UDI", "--ignore", "Product ID"],
     "column 'Type' is text (row 1: 'L', 3 distinct values); give --categorical 'Type'"),
    ("parts", ["--label", "Machine failure", "--time", "UDI", "--ignore", "Product ID", "--categorical", "Type"],
     "column(s) ['TWF', 'HDF', 'PWF', 'OSF'] are 1 only on failure rows: failure types derived from 'Machine "
     "failure', which would leak the answer; --ignore TWF,HDF,PWF,OSF"),
    ("parts", ["--label", "Machine failure"], "say how rows are held out: --group COL"),
    ("parts", ["--label", "failed", "--time", "UDI"], "--label 'failed': no such column"),
    ("parts", ["--label", "Machine failure", "--time", "UDI", "--categorical", "Product ID"],
     "categorical column 'Product ID' has 300 distinct values"),
    ("parts", ["--label", "Type", "--time", "UDI"], "label 'Type' has text values ['H', 'L', 'M']; say which one"),
    ("parts", ["--label", "Type", "--time", "UDI", "--positive", "XL"], "--positive 'XL' is not a value of 'Type'"),
    ("parts", ["--label", "Machine failure", "--time", "Type", "--ignore", "Product ID," + ",".join(LEAKY)],
     "--time 'Type': row 1 has 'L', not a time or number"),
    ("runs", ["--label", "tool_condition", "--group", "experiment", "--positive", "worn", "--per-run"],
     "runs.csv: column 'material' is text (row 1: 'aluminium', 2 distinct values); give --categorical 'material'"),
    ("runs-missing", ["--label", "tool_condition", "--group", "experiment", "--positive", "worn", "--per-run",
                      "--categorical", "material"], "run(s) ['exp01'] have samples but no row in"),
    ("long", ["--label", "tool_condition", "--group", "experiment", "--positive", "worn", "--per-run",
              "--categorical", "material"],
     "label 'tool_condition' changes within run 'exp01' (row 11: 'worn' after 'unworn')"),
    ("one", ["--label", "flag", "--time", "UDI"], "label 'flag' has one value only ('0'): nothing to learn"),
    ("parts", ["--label", "Machine failure", "--group", "RNF", "--ignore", "Product ID,TWF,HDF,PWF,OSF",
               "--categorical", "Type"], "--group 'RNF' has one value only ('0'): nothing to hold out"),
    ("codes", ["--label", "flag", "--time", "UDI"], "label 'flag' has 3 whole-number values ['0', '1', '2']: classes, "
                                                    "not a measurement; give --positive V for the failure class"),
])
def test_table_errors_are_one_line_exit_2(case: str, args: list[str], message: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                          runs: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    samples, table = runs
    extra: list[str] = []
    if case == "parts":
        path = _csv(tmp_path, "t.csv", product_failures(rows=300, seed=6))
    elif case in ("one", "codes"):
        flag = 0 if case == "one" else np.arange(30) % 3
        path = _csv(tmp_path, "t.csv", pd.DataFrame({"UDI": range(30), "x": range(30), "flag": flag}))
    elif case == "long":
        long = samples.merge(table, on="experiment")
        long.loc[10, "tool_condition"] = "worn" if long.loc[9, "tool_condition"] == "unworn" else "unworn"
        path = _csv(tmp_path, "t.csv", long)
        message = message.replace("'worn' after 'unworn'", f"{long.loc[10, 'tool_condition']!r} after "
                                                           f"{long.loc[9, 'tool_condition']!r}")
    else:
        path = _csv(tmp_path, "t.csv", samples)
        extra = ["--runs", _csv(tmp_path, "runs.csv", table.iloc[1:] if case == "runs-missing" else table)]
    code, out, err = run_cli(capsys, monkeypatch, "table", "check", path, *args, *extra)
    assert code == 2, (out, err)
    assert message in " ".join(err.split()) and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 or message in err.replace("\n", " ")


def test_a_process_step_that_changes_within_runs_gives_each_run_its_most_frequent_step() -> None:
    samples = pd.DataFrame({"run": np.repeat(["a", "b"], 4), "t": np.tile(range(4), 2), "x": range(8),
                            "step": ["prep", "cut", "cut", "cut", "prep", "prep", "prep", "end"],
                            "worn": np.repeat([0, 1], 4)})
    p = prepare(samples, TableSpec(label="worn", group="run", time="t", categorical=("step",), per_run=True))
    assert p.x["step"].tolist() == ["cut", "prep"]
    assert any("'step' changes within runs: each run gets its most frequent level" in n for n in p.notes)


def test_a_folder_of_one_file_per_run_joins_a_numbered_run_table(runs: tuple[pd.DataFrame, pd.DataFrame],
                                                                   tmp_path: Path) -> None:
    """The tool-wear layout of one CSV per experiment (no run-id column) and a run table numbered 1, 2, …"""
    from pipelines.training.tables import read

    samples, table = runs
    folder = tmp_path / "experiments"
    folder.mkdir()
    for i, (_, g) in enumerate(samples.groupby("experiment", sort=True)):
        g.drop(columns="experiment").to_csv(folder / f"experiment_{i + 1:02d}.csv", index=False)
    numbered = table.assign(No=range(1, len(table) + 1)).drop(columns="experiment")
    spec = TableSpec(label="tool_condition", group="No", time="time_s", categorical=("material",),
                     positive="worn", per_run=True, ignore=("flank_wear_mm",))
    p = prepare(read(folder, "No"), spec, str(folder), runs=numbered)
    assert p.groups is not None and len(p.y) == len(table)
    worn = dict(zip(numbered["No"].astype(str), numbered["tool_condition"] == "worn", strict=True))
    assert [bool(v) for v in p.y] == [worn[g] for g in p.groups]  # each file got its own run's label
    with pytest.raises(TableError, match="a folder of runs needs --group NAME"):
        read(folder)


def test_float_read_run_ids_join_and_a_table_of_constants_is_refused(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    samples = pd.DataFrame({"run": np.repeat([1, 2, 3, 4], 5), "t": np.tile(range(5), 4), "x": 1.0})
    runs = pd.DataFrame({"run": [1.0, 2.0, 3.0, 4.0], "worn": [0, 1, 0, 1]})  # ids read as floats
    p = prepare(samples, TableSpec(label="worn", group="run", per_run=True), runs=runs)
    assert sorted(p.groups) == ["1", "2", "3", "4"] if p.groups is not None else False
    code, _, err = run_cli(capsys, monkeypatch, "table", "train", _csv(tmp_path, "s.csv", samples), "--runs",
                           _csv(tmp_path, "r.csv", runs), "--label", "worn", "--group", "run", "--per-run",
                           "--out", str(tmp_path / "m"))
    assert code == 2 and "every feature column is empty or constant on the training rows" in err, err


def test_predict_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(capsys, monkeypatch, "table", "predict", _csv(tmp_path, "t.csv", pd.DataFrame({"a": [1]})),
                           "--model", str(tmp_path / "nowhere"))
    assert code == 2 and "no table model here (table_model.json + model.txt)" in " ".join(err.split())
    code, _, err = run_cli(capsys, monkeypatch, "table", "check", str(tmp_path / "missing.csv"), "--label", "y",
                           "--time", "t")
    assert code == 2 and "missing.csv: no such file" in err
