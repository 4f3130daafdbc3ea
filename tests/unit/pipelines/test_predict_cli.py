"""``linewatch predict``: files in, predictions out; every bad flag or file is exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from byod_support import run_cli

from pipelines.models import ModelBundle, Registry


@pytest.fixture
def registry(tmp_path: Path, small_bundle: ModelBundle, monkeypatch: pytest.MonkeyPatch) -> Registry:
    reg = Registry(tmp_path / "registry")
    version = reg.register(small_bundle, {"score": 0.5, "holdout_id": "x"}, {})
    reg.promote(version, force=True)
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "registry"))
    return reg


@pytest.fixture
def files(tmp_path: Path, small_history: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[Path, Path]:
    tel, ev = small_history
    two = tel[tel["machine_id"].isin(["line-1/cnc-01", "line-1/cnc-02"])].groupby("machine_id").head(750)
    two.to_csv(tmp_path / "tel.csv", index=False)
    ev.to_csv(tmp_path / "ev.csv", index=False)
    return tmp_path / "tel.csv", tmp_path / "ev.csv"


def test_predict_rows_csv_and_last_jsonl(registry: Registry, files: tuple[Path, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    tel, ev = files
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tel), "--events", str(ev), "-o", str(tmp_path / "p.csv"),
                       "--no-explain", "--chunk-rows", "400")
    assert code == 0, err
    rows = pd.read_csv(tmp_path / "p.csv")
    assert len(rows) == 1500 and {"machine_id", "ts", "rul", "rul_low", "rul_high", "health", "anomaly_score",
                                  "defect_risk"} <= set(rows.columns)
    assert any(c.startswith("p_") for c in rows.columns)
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tel), "--at", "last", "-o", str(tmp_path / "p.jsonl"))
    assert code == 0, err
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [r["machine_id"] for r in lines] == ["line-1/cnc-01", "line-1/cnc-02"]
    assert all(r["explanation"].startswith("Main factors:") for r in lines)
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tel), "--at", "last", "-o", str(tmp_path / "p.parquet"))
    assert code == 0 and len(pd.read_parquet(tmp_path / "p.parquet")) == 2


@pytest.mark.parametrize("args, message", [
    (["--at", "first"], "--at 'first': use 'row'"),
    (["--format", "xlsx"], "--format 'xlsx': use one of csv, parquet, jsonl"),
    (["-o", "out.xlsx"], "unknown extension; use .csv, .parquet or .jsonl"),
    (["--format", "parquet"], "--format parquet needs --out FILE"),
    (["--kind", "robot"], "no champion model for kind 'robot'"),
    (["--stride", "0"], "Invalid value for '--stride'"),
])
def test_bad_flags_exit_2_with_one_line(registry: Registry, files: tuple[Path, Path], args: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(files[0]), *args)
    assert code == 2 and message in " ".join(err.split()) and "Traceback" not in err


def test_bad_files_exit_2_naming_file_row_and_column(registry: Registry, tmp_path: Path, files: tuple[Path, Path],
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv: no such file or folder" in err and len(err.strip().splitlines()) == 1
    tel = pd.read_csv(files[0])
    bad = tel.astype({"spindle_power_kw": object})
    bad.loc[7, "spindle_power_kw"] = "broken"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "bad.csv"), "--chunk-rows", "500")
    assert code == 2 and "column 'spindle_power_kw' must be numeric; row 8 has 'broken'" in " ".join(err.split())
    dup = pd.concat([tel.iloc[:600], tel.iloc[599:]], ignore_index=True)  # row 601 repeats row 600
    dup.to_csv(tmp_path / "dup.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "dup.csv"), "--chunk-rows", "600")
    assert code == 2 and "duplicate time for machine 'line-1/cnc-01' at row 601" in " ".join(err.split())
    other = tel.iloc[:300].assign(machine_id="line-9/press-01")
    other.to_csv(tmp_path / "other.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "other.csv"))
    assert code == 2 and "machine 'line-9/press-01': no champion model for kind 'press'" in " ".join(err.split())
