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


def _predict(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, src: Path, out: Path,
             *args: str) -> str:
    code, _, err = run_cli(capsys, monkeypatch, "predict", str(src), "-o", str(out), *args)
    assert code == 0, err
    return out.read_text()


def test_chunked_output_is_the_whole_file_output(registry: Registry, tmp_path: Path,
                                                 small_history: tuple[pd.DataFrame, pd.DataFrame],
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """100-row chunks (machines spanning 2-8 chunks, a 60-row machine inside one chunk, a window
    of 50 rows) give byte for byte the output of one whole-file chunk, for CSV and for Parquet
    read in row groups that do not line up with the chunks, per row and --at last."""
    tel, ev = small_history
    tel = tel.groupby("machine_id").head(730)
    tel = tel[(tel["machine_id"] != "line-1/cnc-02") | (tel.groupby("machine_id").cumcount() < 60)]
    tel.to_csv(tmp_path / "tel.csv", index=False)
    tel.to_parquet(tmp_path / "tel.parquet", index=False, row_group_size=170)
    ev.to_csv(tmp_path / "ev.csv", index=False)
    assert len(tel) == 1520 and tel["machine_id"].value_counts().min() == 60
    whole = ["--chunk-rows", "1000000"]
    for src in ("tel.csv", "tel.parquet"):
        for at, out in (("row", "p.csv"), ("last", "p.jsonl")):
            args = ["--events", str(tmp_path / "ev.csv"), "--at", at]
            chunked = _predict(capsys, monkeypatch, tmp_path / src, tmp_path / f"c_{out}", *args, "--chunk-rows", "100")
            assert chunked == _predict(capsys, monkeypatch, tmp_path / src, tmp_path / f"w_{out}", *args, *whole)
            assert len(chunked.splitlines()) == (1521 if at == "row" else 3)
    rows = pd.read_csv(tmp_path / "c_p.csv")
    p_cols = [c for c in rows.columns if c.startswith("p_")]
    assert rows["explanation"].str.startswith("Main factors:").all() and rows[p_cols[0]].nunique() > 100


def test_folder_of_partitions_continues_each_machine(registry: Registry, tmp_path: Path, files: tuple[Path, Path],
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder read in path order (date=…/ partitions, every machine in each) gives the predictions
    of the same rows in one file: each machine's window continues from the earlier file."""
    tel = pd.read_csv(files[0])
    day = tel.groupby("machine_id").cumcount() < 400
    for name, part in (("date=2026-01-01", tel[day]), ("date=2026-01-02", tel[~day])):
        (tmp_path / "parts" / name).mkdir(parents=True)
        part.to_parquet(tmp_path / "parts" / name / "part-0.parquet", index=False)
    _predict(capsys, monkeypatch, files[0], tmp_path / "one.csv", "--no-explain")
    _predict(capsys, monkeypatch, tmp_path / "parts", tmp_path / "parts.csv", "--no-explain", "--chunk-rows", "150")
    one, parts = (pd.read_csv(tmp_path / f).sort_values(["machine_id", "ts"], kind="stable").reset_index(drop=True)
                  for f in ("one.csv", "parts.csv"))
    assert len(one) == 1500
    pd.testing.assert_frame_equal(parts, one)


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


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    """``frame`` with data row ``row`` (1-based, as in the messages) of ``column`` set to ``value``."""
    out = frame.astype({column: object})
    out.loc[row - 1, column] = value
    return out


BAD_FILES = {  # name -> (bad table from the 1,500-row good one, message); the fault sits in the second chunk
    "backwards": (lambda t: _set(t, 651, "ts", t["ts"].iloc[100]),
                  "time goes backwards for machine 'line-1/cnc-01' at row 651"),
    "duplicate": (lambda t: _set(t, 601, "ts", t["ts"].iloc[599]),
                  "duplicate time for machine 'line-1/cnc-01' at row 601"),
    "starts-again": (lambda t: pd.concat([t.iloc[:300], t.iloc[750:1050], t.iloc[300:750]], ignore_index=True),
                     "machine 'line-1/cnc-01' starts again at row 601 after other machines"),
    "bad-ts": (lambda t: _set(t, 651, "ts", "yesterday"), "column 'ts' needs an ISO 8601 time such as "
                                                          "2026-01-05T08:00:00Z in every row; row 651 has 'yesterday'"),
    "empty-ts": (lambda t: _set(t, 651, "ts", None), "column 'ts' needs an ISO 8601 time such as "
                                                     "2026-01-05T08:00:00Z in every row; row 651 has an empty cell"),
    "bad-cycle": (lambda t: _set(t.drop(columns=["ts"]).assign(cycle=t.groupby("machine_id").cumcount() + 1),
                                 651, "cycle", "x"),
                  "column 'cycle' needs a whole number of cycles in every row; row 651 has 'x'"),
    "empty-machine": (lambda t: _set(t, 651, "machine_id", None), "empty machine_id at row 651"),
    "unknown-state": (lambda t: _set(t, 651, "state", "sleeping"), "unknown state(s) ['sleeping']; row 651 has"),
    "text-signal": (lambda t: _set(t, 651, "spindle_power_kw", "broken"),
                    "column 'spindle_power_kw' must be numeric; row 651 has 'broken'"),
    "no-machine-column": (lambda t: t.drop(columns=["machine_id"]), "missing required column(s) ['machine_id']"),
    "no-time-column": (lambda t: t.drop(columns=["ts"]), "missing required column 'ts' or 'cycle' (one of them)"),
    "no-signals": (lambda t: t[["machine_id", "ts", "state"]], "needs at least one signal column"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_rows_exit_2_naming_the_row_in_the_file(name: str, registry: Registry, files: tuple[Path, Path],
                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One line naming the file and the row counted from the file's start, the same in 500-row
    chunks as in one whole-file chunk."""
    make, message = BAD_FILES[name]
    make(pd.read_csv(files[0])).to_csv(tmp_path / "bad.csv", index=False)
    lines = []
    for chunk_rows in ("500", "1000000"):
        code, _, err = run_cli(capsys, monkeypatch, "predict", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "o.csv"),
                               "--chunk-rows", chunk_rows)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
        assert f"error: {tmp_path / 'bad.csv'}: " in errors[0] and message in errors[0]
        lines.append(errors[0])
    assert lines[0] == lines[1]


def test_unreadable_inputs_and_outputs_exit_2_with_one_line(registry: Registry, files: tuple[Path, Path],
                                                            tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    text = files[0].read_text().splitlines()
    text[651] += ",1,2"  # data row 651 = line 652 of the file (after the header)
    (tmp_path / "ragged.csv").write_text("\n".join(text) + "\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "out.csv").mkdir()
    pd.read_csv(files[1]).drop(columns=["kind"]).to_csv(tmp_path / "ev.csv", index=False)
    tel = str(files[0])
    cases = [
        ([str(tmp_path / "ragged.csv"), "--chunk-rows", "500"],
         "ragged.csv: cannot read it as CSV or Parquet: Error tokenizing data. C error: Expected 8 fields in line 652"),
        ([str(tmp_path / "empty.csv")], "empty.csv: cannot read it as CSV or Parquet: No columns to parse from file"),
        ([str(tmp_path / "junk.parquet")], "junk.parquet: cannot read it as CSV or Parquet:"),
        ([str(tmp_path / "nothing")], "nothing: no .csv or .parquet files in this folder"),
        ([tel, "--events", str(tmp_path / "nope.csv")], "nope.csv: no such file or folder"),
        ([tel, "--events", str(tmp_path / "ev.csv")], "events: missing required column(s) ['kind']"),
        ([tel, "--version", "cnc-nope"], "unknown model version 'cnc-nope'"),
        ([tel, "-o", str(tmp_path / "out.csv")], "Is a directory: " + str(tmp_path / "out.csv")),
    ]
    for args, message in cases:
        code, _, err = run_cli(capsys, monkeypatch, "predict", *args)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and message in errors[0] and "Traceback" not in err, (args, err)
    for flag, value in (("--chunk-rows", "99"), ("--cycle-seconds", "0")):
        code, _, err = run_cli(capsys, monkeypatch, "predict", tel, flag, value)
        assert code == 2 and f"Invalid value for '{flag}'" in " ".join(err.split()) and "Traceback" not in err
