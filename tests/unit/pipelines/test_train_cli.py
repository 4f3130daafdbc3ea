"""``linewatch train`` on cycle data: cuts in cycles, flags in the data's units, one-line errors (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from byod_support import fleet, run_cli


@pytest.fixture
def cycles_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.setenv("LINEWATCH_DATA_DIR", str(tmp_path / "var"))
    fleet(units=6).to_csv(tmp_path / "t.csv", index=False)
    return tmp_path / "t.csv"


@pytest.mark.parametrize("args, message", [
    (["--cut", "362"], "nothing is held out after the cut cycle 362: the history ends at cycle 8"),
    (["--cut", "soon"], "--cut 'soon': this history counts cycles; give a cycle number, e.g. --cut 150"),
    (["--windows", "1,5"], "--windows '1,5': each window needs at least 2 samples"),
    (["--windows", "a"], "--windows 'a': give whole numbers of samples separated by commas"),
    (["--split", "random"], "--split 'random': use auto, time or units"),
    (["--task", "x"], "--task 'x': use auto, classify or rul"),
    (["--conditions", "setting9"], "--conditions 'setting9': no column(s) ['setting9'] in the telemetry"),
    (["--conditions", "setting1", "--condition-column", "setting1"], "give --conditions (settings to cluster) or"),
    (["--horizon", "500", "--split", "time"], "no training row before the cut"),
    (["--horizon", "0.5", "--cut", "84"],
     "no row of the fit slice has a failure within the horizon (0.5 h); raise --horizon"),
])
def test_train_errors_are_one_line_exit_2(cycles_csv: Path, args: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(capsys, monkeypatch, "train", "--telemetry", str(cycles_csv), "--kind", "engine",
                           "--quick", *args)
    assert code == 2, err
    assert message in " ".join(err.split()) and "Traceback" not in err


def test_cut_in_cycles_parses() -> None:
    import pandas as pd

    from pipelines.features.timeaxis import EPOCH
    from pipelines.training.importer import History
    from services.cli.train import parse_cut

    h = History(pd.DataFrame({"machine_id": ["u"], "cycle": [1], "s": [0.0]}), pd.DataFrame())
    assert parse_cut("362", h, 3600.0) == EPOCH + pd.Timedelta(hours=362)
    timed = History(pd.DataFrame({"machine_id": ["u"], "ts": ["2026-01-01T00:00:00Z"], "s": [0.0]}), pd.DataFrame())
    assert parse_cut("2026-01-02", timed, 3600.0) == pd.Timestamp("2026-01-02", tz="UTC")


def test_one_unit_cycle_table_is_refused_for_the_unit_split(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A per-part table written as one machine's cycles used to end in a KeyError traceback (exit 1)."""
    monkeypatch.setenv("LINEWATCH_REGISTRY_DIR", str(tmp_path / "registry"))
    one = fleet(units=3)
    one = one[one["machine_id"] == one["machine_id"].iloc[0]]
    one.to_csv(tmp_path / "one.csv", index=False)
    code, _, err = run_cli(capsys, monkeypatch, "train", "--telemetry", str(tmp_path / "one.csv"), "--kind", "mill",
                           "--quick")
    assert code == 2, err
    assert ("a split by units needs 2 or more units; this table has 1 (['unit-000']): give --split time, or for one "
            "row per part with its own outcome use `linewatch table train`") in " ".join(err.split())
    assert "Traceback" not in err
