"""Bring-your-own-data import: a valid history loads; each format error is named clearly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.training.importer import ImportFormatError, load_history

TEL = """machine_id,ts,state,spindle_power_kw,spindle_vibration_rms_mm_s,failure_mode
line-1/cnc-01,2026-01-05T08:00:00+00:00,running,7.1,1.1,
line-1/cnc-01,2026-01-05T08:01:00+00:00,running,7.2,,
line-1/cnc-01,2026-01-05T08:02:00+00:00,down,7.9,2.5,coolant
line-1/cnc-02,2026-01-05T08:00:00+00:00,running,6.9,1.0,
line-1/cnc-02,2026-01-05T08:01:00+00:00,running,7.0,1.2,
"""
EVENTS = """event_id,machine_id,ts,kind,mode,component,good
e1,line-1/cnc-01,2026-01-05T08:00:30+00:00,part_completed,,,true
e2,line-1/cnc-02,2026-01-05T08:00:40+00:00,failure,tool_wear,tool,
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def test_valid_history_loads(tmp_path: Path) -> None:
    h = load_history(write(tmp_path, "t.csv", TEL), write(tmp_path, "e.csv", EVENTS))
    assert len(h.telemetry) == 5 and h.telemetry["ts"].dt.tz is not None
    assert pd.isna(h.telemetry["spindle_vibration_rms_mm_s"].iloc[1])  # empty cell = missing, not zero
    fails = h.events[h.events["kind"] == "failure"].sort_values("mode")
    assert fails["mode"].tolist() == ["coolant", "tool_wear"]  # the marked last row became an event
    assert h.events.loc[h.events["event_id"] == "e1", "good"].item() is True


def test_parquet_and_cycle_counter(tmp_path: Path) -> None:
    frame = pd.DataFrame({"machine_id": ["u1"] * 3, "cycle": [1, 2, 3], "s1": [0.1, 0.2, 0.3]})
    frame.to_parquet(tmp_path / "t.parquet")
    h = load_history(tmp_path / "t.parquet")
    assert (h.telemetry["ts"].diff().dropna() == pd.Timedelta(hours=1)).all()


def test_missing_column(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"missing required column\(s\) \['machine_id'\]"):
        load_history(write(tmp_path, "t.csv", TEL.replace("machine_id,", "machine,", 1)))
    with pytest.raises(ImportFormatError, match="'ts' or 'cycle'"):
        load_history(write(tmp_path, "t.csv", TEL.replace(",ts,", ",time,", 1)))


def test_unsorted_time(tmp_path: Path) -> None:
    lines = TEL.splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    with pytest.raises(ImportFormatError, match=r"time goes backwards for machine 'line-1/cnc-01' at row 2"):
        load_history(write(tmp_path, "t.csv", "\n".join(lines) + "\n"))


def test_duplicate_time(tmp_path: Path) -> None:
    text = TEL.replace("2026-01-05T08:01:00+00:00,running,7.0", "2026-01-05T08:00:00+00:00,running,7.0")
    with pytest.raises(ImportFormatError, match=r"duplicate time for machine 'line-1/cnc-02' at row 5 "
                                                r"\(ts 2026-01-05 08:00:00\+00:00, same as row 4\)"
                                                r".*drop or merge") as e:
        load_history(write(tmp_path, "t.csv", text))
    assert "not sorted" not in str(e.value)


def test_duplicate_cycle_is_named_in_cycles(tmp_path: Path) -> None:
    frame = pd.DataFrame({"machine_id": ["u1"] * 3, "cycle": [1, 2, 2], "s1": [0.1, 0.2, 0.3]})
    with pytest.raises(ImportFormatError, match=r"duplicate time for machine 'u1' at row 3 \(cycle 2, same as row 2\)"):
        load_history(write(tmp_path, "t.csv", frame.to_csv(index=False)))


def test_interleaved_machines(tmp_path: Path) -> None:
    lines = TEL.splitlines()
    text = "\n".join([lines[0], lines[1], lines[4], lines[2], lines[3], lines[5]]) + "\n"
    with pytest.raises(ImportFormatError, match=r"machine 'line-1/cnc-01' starts again at row 3 after other machines"):
        load_history(write(tmp_path, "t.csv", text))


def test_unknown_ids(tmp_path: Path) -> None:
    ev = EVENTS.replace("e2,line-1/cnc-02", "e2,line-9/cnc-99")
    with pytest.raises(ImportFormatError, match=r"unknown machine id\(s\) \['line-9/cnc-99'\]"):
        load_history(write(tmp_path, "t.csv", TEL), write(tmp_path, "e.csv", ev))


def test_non_numeric_values(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"column 'spindle_power_kw' must be numeric; row 2 has '7,2'"):
        load_history(write(tmp_path, "t.csv", TEL.replace(",7.2,", ',"7,2",')))


def test_event_errors(tmp_path: Path) -> None:
    tel = write(tmp_path, "t.csv", TEL)
    with pytest.raises(ImportFormatError, match="has no 'mode'"):
        load_history(tel, write(tmp_path, "e.csv", EVENTS.replace("failure,tool_wear", "failure,")))
    with pytest.raises(ImportFormatError, match=r"unknown kind\(s\) \['explosion'\]"):
        load_history(tel, write(tmp_path, "e.csv", EVENTS.replace("part_completed", "explosion")))
    with pytest.raises(ImportFormatError, match="no such file"):
        load_history(tmp_path / "missing.csv")


def test_feedback_labels(tmp_path: Path) -> None:
    tel = write(tmp_path, "t.csv", TEL)
    good = "machine_id,ts,mode,outcome\nline-1/cnc-01,2026-01-05T08:01:00+00:00,tool_wear,confirmed_fault\n"
    h = load_history(tel, labels=write(tmp_path, "l.csv", good))
    assert h.feedback["outcome"].tolist() == ["confirmed_fault"]
    with pytest.raises(ImportFormatError, match=r"unknown outcome\(s\) \['maybe'\]"):
        load_history(tel, labels=write(tmp_path, "l.csv", good.replace("confirmed_fault", "maybe")))
