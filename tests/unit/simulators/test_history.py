"""History mode: Parquet tables in the documented format, equal to the live stream, and the CLI."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd

from contracts.plant import Plant, load_plant
from simulators.history import expected_samples, write_history
from simulators.physics.line import DEFAULT_START, Line

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "simulators" / "plants" / "demo.yaml"


def small() -> Plant:
    data = load_plant(DEMO).model_dump()
    data["lines"][0]["machines"] = data["lines"][0]["machines"][:2]
    data["lines"][1]["machines"] = data["lines"][1]["machines"][:1]
    return Plant.model_validate(data)


def test_history_tables_follow_the_format_and_match_the_live_stream(tmp_path: Path) -> None:
    plant = small()
    seen: list[int] = []
    summary = write_history(plant, tmp_path, days=0.5, seed=4, progress=seen.append)
    tel = pd.read_parquet(summary.telemetry_path)
    ev = pd.read_parquet(summary.events_path)
    assert len(tel) == summary.samples == expected_samples(plant, 0.5) == sum(seen) == 3 * 720
    assert list(tel.columns[:4]) == ["machine_id", "ts", "seq", "state"]
    assert str(tel["ts"].dt.tz) == "UTC"
    # sorted by machine, then time; no machine split into blocks
    assert tel["machine_id"].tolist() == sorted(tel["machine_id"].tolist(), key=[m.id for m in plant.machines()].index)
    assert (tel.groupby("machine_id")["ts"].diff().dropna() == pd.Timedelta(minutes=1)).all()
    assert set(ev["kind"]) <= {"part_completed", "failure", "maintenance_done", "state_changed"}
    assert ev["event_id"].is_unique and (ev.loc[ev["kind"] == "failure", "mode"].notna()).all()
    parts = ev[ev["kind"] == "part_completed"]
    assert parts["good"].notna().all() and (parts["energy_kwh"] > 0).all()

    samples, events = Line(plant, seed=4).step_until(DEFAULT_START + timedelta(days=0.5))
    live = {(s.machine_id, s.seq): s.signals.get("spindle_torque_nm") for s in samples}
    table = {(r.machine_id, r.seq): (None if pd.isna(r.spindle_torque_nm) else r.spindle_torque_nm)
             for r in tel.itertuples()}
    assert table == live
    assert sorted(ev["event_id"]) == sorted(e.event_id for e in events)


def cli(monkeypatch, *args: str) -> int:
    """Run the ``linewatch`` entry point in-process (as the console script does); its exit code."""
    from services.cli.main import run

    monkeypatch.setattr(sys, "argv", ["linewatch", *args])
    try:
        run()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_bad_plant_names_the_field_and_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    bad = tmp_path / "plant.yaml"
    bad.write_text(DEMO.read_text().replace("kind: cnc", "kind: lathe", 1))
    code = cli(monkeypatch, "simulate", "history", "--plant", str(bad), "--days", "0.1", "--out", str(tmp_path / "h"))
    err = capsys.readouterr().err.replace("\n", "")
    assert code == 2
    assert "plant.yaml: lines[0].machines[0].kind" in err and "Traceback" not in err
    assert not (tmp_path / "h").exists()


def test_cli_history_writes_both_tables(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "h"
    assert cli(monkeypatch, "simulate", "history", "--days", "0.05", "--out", str(out), "--seed", "3") == 0
    tel = pd.read_parquet(out / "telemetry.parquet")
    assert len(tel) == 10 * 72
    assert tel["ts"].max() == pd.Timestamp(DEFAULT_START)  # history ends where a live run starts
    assert len(pd.read_parquet(out / "events.parquet")) > 0
    assert "samples/s" in capsys.readouterr().out
