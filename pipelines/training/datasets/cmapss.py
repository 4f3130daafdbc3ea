"""NASA C-MAPSS turbofan run-to-failure data (Saxena et al., PHM 2008) -> import format, and
the literature's per-unit score of ``linewatch predict --at last`` output.

Convert (train files end in failure: the last row of each unit gets ``failure_mode``)::

    python -m pipelines.training.datasets.cmapss convert train_FD002.txt.gz var/fd002/train.csv
    python -m pipelines.training.datasets.cmapss convert test_FD002.txt.gz var/fd002/test.csv --censored

Score (one prediction per test unit at its last cycle against ``RUL_FD00x.txt``)::

    python -m pipelines.training.datasets.cmapss score var/fd002/pred.csv RUL_FD002.txt --cap 125

Columns: ``machine_id`` (``unit-001``…), ``cycle``, ``setting1..3``, ``s1..s21``. Reads the
space-separated text, gzipped or not. The RUL score is RMSE and the PHM08 score
(d = predicted − true; ``exp(−d/13) − 1`` early, ``exp(d/10) − 1`` late), with the true RUL
capped like the targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["unit", "cycle", "setting1", "setting2", "setting3"] + [f"s{i}" for i in range(1, 22)]
FAILURE_MODE = "engine_failure"


class CmapssError(ValueError):
    """A C-MAPSS file does not look like one."""


def read_raw(path: Path | str) -> pd.DataFrame:
    """One ``train_/test_FD00x.txt[.gz]`` file as a frame with :data:`COLUMNS`."""
    try:
        raw = pd.read_csv(path, sep=r"\s+", header=None, engine="c")
    except (OSError, ValueError) as exc:
        raise CmapssError(f"{path}: cannot read it as C-MAPSS text: {exc}") from exc
    raw = raw.dropna(axis=1, how="all")
    if raw.shape[1] != len(COLUMNS):
        raise CmapssError(f"{path}: {raw.shape[1]} columns, expected {len(COLUMNS)} "
                          "(unit, cycle, 3 settings, 21 sensors)")
    raw.columns = COLUMNS
    return raw


def convert(raw: pd.DataFrame, censored: bool = False) -> pd.DataFrame:
    """Import-format telemetry; without ``censored`` each unit's last row is its failure."""
    tel = raw.rename(columns={"unit": "machine_id"})
    tel["machine_id"] = tel["machine_id"].map(lambda u: f"unit-{int(u):03d}")
    tel["cycle"] = tel["cycle"].astype(int)
    tel = tel.sort_values(["machine_id", "cycle"], kind="stable").reset_index(drop=True)
    if not censored:
        last = tel.groupby("machine_id")["cycle"].transform("max") == tel["cycle"]
        tel["failure_mode"] = np.where(last, FAILURE_MODE, "")
    return tel


def phm08(d: np.ndarray) -> np.ndarray:
    """PHM08 penalty per prediction, d = predicted − true."""
    return np.where(d < 0, np.exp(-d / 13.0) - 1, np.exp(d / 10.0) - 1)


def score(pred: pd.DataFrame, true_rul: np.ndarray, cap: float = 125.0, column: str = "rul") -> dict[str, float]:
    """RMSE / PHM08 of one prediction per unit (rows in unit order) against the true RUL."""
    pred = pred.sort_values("machine_id", kind="stable")
    if len(pred) != len(true_rul):
        raise CmapssError(f"{len(pred)} predicted units but {len(true_rul)} true RUL values: predict with --at last")
    p = pred[column].to_numpy(dtype=float)
    t = np.minimum(np.asarray(true_rul, dtype=float), cap)
    d = p - t
    pen = phm08(d)
    return {"units": int(len(t)), "rmse": float(np.sqrt(np.mean(d ** 2))), "phm08_sum": float(pen.sum()),
            "phm08_mean": float(pen.mean()), "mae": float(np.mean(np.abs(d))), "cap": cap}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.training.datasets.cmapss")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="C-MAPSS text -> import-format CSV/Parquet")
    c.add_argument("src")
    c.add_argument("out")
    c.add_argument("--censored", action="store_true", help="test file: units stop before failure")
    s = sub.add_parser("score", help="score `linewatch predict --at last` output against RUL_FD00x.txt")
    s.add_argument("predictions")
    s.add_argument("rul_file")
    s.add_argument("--cap", type=float, default=125.0)
    s.add_argument("--column", default="rul", help="prediction column (default rul)")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "convert":
            tel = convert(read_raw(a.src), a.censored)
            out = Path(a.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            tel.to_parquet(out, index=False) if out.suffix == ".parquet" else tel.to_csv(out, index=False)
            print(f"{out}: {len(tel)} rows, {tel['machine_id'].nunique()} units")
        else:
            pred = pd.read_parquet(a.predictions) if a.predictions.endswith(".parquet") else pd.read_csv(a.predictions)
            if a.column not in pred:
                raise CmapssError(f"{a.predictions}: no column {a.column!r}; columns {list(pred.columns)[:12]}")
            true = np.loadtxt(a.rul_file, ndmin=1)
            print(json.dumps(score(pred, true, a.cap, a.column)))
    except (CmapssError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
