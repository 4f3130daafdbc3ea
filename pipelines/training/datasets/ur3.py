"""UR3 CobotOps (UCI 963, Tyrovolas et al. 2024, CC BY 4.0, doi:10.24432/C5J891) -> import format.

Reads the authoritative ``dataset_02052023.xlsx`` with the standard library (an xlsx file
is zipped XML; no extra package) or, if asked, the ``;``-separated CSV with decimal commas.
Empty cells stay missing. Protective stops and grip losses become ``failure`` events
(modes ``protective_stop`` / ``grip_lost``) at the first sample of each run of True.

Run: ``python -m pipelines.training.datasets.ur3 ../shared/data/ur3_cobotops var/ur3``
(writes telemetry.csv, events.csv, cycles.csv and prints the cut for a split by cycle).
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

MACHINE = "ur3-cell/ur3-01"
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _col_index(ref: str) -> int:
    match = re.match(r"[A-Z]+", ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    letters = match.group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(path: Path) -> pd.DataFrame:
    """First worksheet of an xlsx file as strings (header row -> columns)."""
    with zipfile.ZipFile(path) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", _NS):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t")))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    data = sheet.find("m:sheetData", _NS)
    if data is None:
        raise ValueError(f"{path.name}: the first worksheet has no sheetData")
    rows = []
    for row in data.findall("m:row", _NS):
        cells: dict[int, str | None] = {}
        for c in row.findall("m:c", _NS):
            v = c.find("m:v", _NS)
            text = c.find("m:is/m:t", _NS)
            value = v.text if v is not None else (text.text if text is not None else None)
            if c.get("t") == "s" and value is not None:
                value = shared[int(value)]
            cells[_col_index(c.get("r", ""))] = value
        rows.append(cells)
    width = max(max(r) for r in rows if r) + 1
    table = [[r.get(i) for i in range(width)] for r in rows]
    header = [str(h).strip() if h is not None else f"_{i}" for i, h in enumerate(table[0])]
    frame = pd.DataFrame(table[1:], columns=header)
    return frame[[c for c in frame.columns if not c.startswith("_")]]


def read_raw(folder: Path, prefer_csv: bool = False) -> pd.DataFrame:
    """The dataset as delivered: xlsx (authoritative) or the CSV export."""
    if prefer_csv:
        frame = pd.read_csv(folder / "dataset_02052023.csv", sep=";", decimal=",", dtype=str)
        frame.columns = [c.strip() for c in frame.columns]
        return frame[[c for c in frame.columns if c and not c.startswith("Unnamed")]]
    return read_xlsx(folder / "dataset_02052023.xlsx")


def _flag(series: pd.Series) -> np.ndarray:
    flags: np.ndarray = series.astype(str).str.strip().str.lower().isin(["true", "1"]).to_numpy()
    return flags


def _signals(raw: pd.DataFrame) -> dict[str, pd.Series]:
    def num(column: str) -> pd.Series:
        return pd.to_numeric(raw[column].astype(str).str.replace(",", "."), errors="coerce")

    out: dict[str, pd.Series] = {}
    for j in range(6):
        out[f"joint{j}_current_a"] = num(f"Current_J{j}")
        out[f"joint{j}_temp_c"] = num("Temperature_T0" if j == 0 else f"Temperature_J{j}")  # upstream name
        out[f"joint{j}_speed_rad_s"] = num(f"Speed_J{j}")
    out["tool_current_a"] = num("Tool_current")
    return out


def convert(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(telemetry, events, cycles) in the import format; cycles maps each sample to its robot cycle."""
    # 863 upstream timestamps are wrapped in double quotes: strip them, keep the rest strict
    ts = pd.to_datetime(raw["Timestamp"].astype(str).str.strip().str.strip('"'), utc=True, format="ISO8601")
    # a protective stop halts the arm: those samples are "down" (not scored, not labelled)
    state = np.where(_flag(raw["Robot_ProtectiveStop"]), "down", "running")
    tel = pd.DataFrame({"machine_id": MACHINE, "ts": ts, "state": state, **_signals(raw)})
    tel = tel.sort_values("ts", kind="stable")
    tel = tel.drop_duplicates(subset=["ts"], keep="first").reset_index(drop=True)
    raw = raw.assign(ts=ts).sort_values("ts", kind="stable").drop_duplicates(subset=["ts"]).reset_index(drop=True)
    events = []
    for col, mode in (("Robot_ProtectiveStop", "protective_stop"), ("grip_lost", "grip_lost")):
        flag = _flag(raw[col])
        starts = np.flatnonzero(flag & ~np.concatenate([[False], flag[:-1]]))
        events += [{"event_id": f"{MACHINE}:{mode}:{i}", "machine_id": MACHINE, "ts": raw["ts"].iloc[i],
                    "kind": "failure", "mode": mode, "component": "cell"} for i in starts]
    ev = pd.DataFrame(events).sort_values("ts", kind="stable").reset_index(drop=True)
    cycles = pd.DataFrame({"ts": raw["ts"], "cycle": pd.to_numeric(raw["cycle"]).astype(int)})
    return tel, ev, cycles


def cycle_cut(cycles: pd.DataFrame, train_share: float = 0.7) -> pd.Timestamp:
    """Time at which the first held-out cycle starts: cycles before it train, after it test."""
    order = cycles.groupby("cycle")["ts"].min().sort_values()
    return order.iloc[int(len(order) * train_share)]


def main(argv: list[str]) -> int:
    src, out = Path(argv[0]), Path(argv[1])
    tel, ev, cycles = convert(read_raw(src))
    out.mkdir(parents=True, exist_ok=True)
    tel.to_csv(out / "telemetry.csv", index=False)
    ev.to_csv(out / "events.csv", index=False)
    cycles.to_csv(out / "cycles.csv", index=False)
    print(f"{len(tel)} samples, {len(ev)} failure events {ev['mode'].value_counts().to_dict()}; "
          f"split by cycle: --cut {cycle_cut(cycles).isoformat()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
