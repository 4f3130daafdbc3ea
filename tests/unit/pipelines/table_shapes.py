"""Seeded generators of the public benchmark *shapes* (not their data): each table has the
layout of a well-known public table and a known, learnable signal, so a test can check that
LineWatch learns it on held-out groups and beats the no-skill and plain-LightGBM baselines.

- :func:`single_condition_fleet`: C-MAPSS FD001-like run-to-failure units, one operating
  condition, a few constant sensors, ``failure_mode`` on each unit's last cycle.
- :func:`product_failures`: AI4I-2020-like, one row per product, a text product type
  ``L``/``M``/``H`` whose overstrain limit differs, numeric process columns, a rare
  ``Machine failure`` flag and the failure-type columns that explain it (leaky as features).
- :func:`process_table`: SECOM-like, ~500 numeric columns (many 50-95 % empty, some constant),
  a timestamp and a pass/fail label coded -1/1 with ~6 % fails.
- :func:`tool_wear_runs`: CNC-mill-tool-wear-like, many short experiments (a run id, a time
  series per run) and a run table with the material, feed rate, the worn/unworn label and the flank wear.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def single_condition_fleet(units: int = 40, seed: int = 0) -> pd.DataFrame:
    """Run-to-failure units (cycles), one condition; sensors drift with the unit's own wear rate."""
    rng = np.random.default_rng(seed)
    parts = []
    for u in range(units):
        life = int(rng.integers(120, 260))
        age = np.arange(1, life + 1)
        wear = np.exp(4.0 * (age / life - 1.0))  # health index: flat, then an exponential knee
        parts.append(pd.DataFrame({
            "machine_id": f"engine-{u + 1:03d}", "cycle": age,
            "setting1": rng.normal(0, 0.002, life), "setting2": rng.normal(0, 0.0003, life),
            "setting3": 100.0,
            "s2": 642.0 + 1.5 * wear + rng.normal(0, 0.5, life),
            "s3": 1590.0 + 25 * wear + rng.normal(0, 6, life),
            "s7": 554.0 - 2.5 * wear + rng.normal(0, 0.9, life),
            "s11": 47.3 + 0.9 * wear + rng.normal(0, 0.27, life),
            "s5": 14.62,  # constant sensors, as in FD001
            "s16": 0.03,
            "failure_mode": np.where(age == life, "engine_failure", "")}))
    return pd.concat(parts, ignore_index=True)


def product_failures(rows: int = 6000, seed: int = 0) -> pd.DataFrame:
    """One row per product; failures follow process rules, overstrain depends on the product type."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["L", "M", "H"], rows, p=[0.6, 0.3, 0.1])
    air = 300 + np.cumsum(rng.normal(0, 0.05, rows)).clip(-3, 3) + rng.normal(0, 0.3, rows)
    process = air + 10 + rng.normal(0, 1.0, rows)
    rpm = rng.normal(1540, 170, rows).clip(1170, 2880)
    torque = rng.normal(40, 7, rows).clip(3, 77)
    wear = (np.arange(rows) * 3 % 240 + rng.integers(0, 3, rows)).astype(float)
    power = torque * rpm * 2 * np.pi / 60
    limit = np.select([kind == "L", kind == "M"], [11000, 12000], 13000)
    osf = wear * torque > limit
    hdf = (process - air < 8.6) & (rpm < 1380)
    pwf = (power < 3000) | (power > 10000)
    twf = (wear > 200) & (rng.random(rows) < 0.05)
    rnf = rng.random(rows) < 0.001
    failed = osf | hdf | pwf | twf | rnf
    return pd.DataFrame({
        "UDI": np.arange(1, rows + 1), "Product ID": [f"{k}{47000 + i}" for i, k in enumerate(kind)], "Type": kind,
        "Air temperature [K]": air.round(1), "Process temperature [K]": process.round(1),
        "Rotational speed [rpm]": rpm.round(0), "Torque [Nm]": torque.round(1), "Tool wear [min]": wear,
        "Machine failure": failed.astype(int), "TWF": twf.astype(int), "HDF": hdf.astype(int),
        "PWF": pwf.astype(int), "OSF": osf.astype(int), "RNF": rnf.astype(int)})


def process_table(rows: int = 1500, columns: int = 500, seed: int = 0) -> pd.DataFrame:
    """Wafers in time order: mostly-missing and constant columns, fails (1) vs passes (-1); ``columns`` >= 250."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (rows, columns))
    fail = rng.random(rows) < 0.065
    informative = [3, 17, 42, 101, 230]  # fails shift these (two of them are often empty)
    for j, shift in zip(informative, (1.6, -1.4, 1.2, 1.5, -1.3), strict=True):
        x[fail, j] += shift
    empty_share = rng.choice([0.0, 0.0, 0.5, 0.7, 0.95], columns)
    empty_share[[3, 17, 42]] = 0.0
    empty_share[[101, 230]] = 0.5
    x[rng.random((rows, columns)) < empty_share] = np.nan
    c = int(columns * 0.8)
    x[:, c:c + 20] = 7.5  # constant columns
    x[:, c + 20:c + 25] = np.nan  # never measured
    frame = pd.DataFrame(x * 10 + 100, columns=[f"f{j:03d}" for j in range(columns)])
    start = pd.Timestamp("2008-07-19 11:55:00")
    stamps = start + pd.to_timedelta(np.sort(rng.uniform(0, 90 * 86400, rows)), unit="s")
    frame.insert(0, "timestamp", stamps.strftime("%d/%m/%Y %H:%M:%S"))
    frame["pass_fail"] = np.where(fail, 1, -1)
    return frame


def tool_wear_runs(runs: int = 40, rows: int = 80, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(samples, runs): each experiment a short time series; a worn tool vibrates and draws more
    current at the same feed, so the run's signal level against its feed rate gives the label
    (``tool_condition`` worn/unworn) and the target ``flank_wear_mm``."""
    rng = np.random.default_rng(seed)
    samples, table = [], []
    for r in range(runs):
        material = "wax" if r % 4 else "aluminium"
        feed = float(rng.choice([3, 6, 12, 15, 20]))
        wear = float(rng.uniform(0.05, 0.45))  # flank wear (mm) at the end of the run
        worn = wear > 0.27
        t = np.arange(rows) * 0.1
        current = 2 + 0.15 * feed + 3.0 * wear + rng.normal(0, 0.5, rows)
        vib = 0.5 + 0.02 * feed + 0.8 * wear + rng.normal(0, 0.2, rows)
        samples.append(pd.DataFrame({"experiment": f"exp{r + 1:02d}", "time_s": t,
                                     "S1_CurrentFeedback": current, "S1_Vibration": vib,
                                     "X1_ActualPosition": 150 + feed * t + rng.normal(0, 0.1, rows)}))
        table.append({"experiment": f"exp{r + 1:02d}", "material": material, "feedrate": feed,
                      "clamp_pressure": float(rng.choice([2.5, 3.0, 4.0])),
                      "tool_condition": "worn" if worn else "unworn", "flank_wear_mm": round(wear, 3)})
    return pd.concat(samples, ignore_index=True), pd.DataFrame(table)


def write_all(folder: str) -> None:
    """The five CSV files of docs/training.md "Other table shapes", default sizes and seeds."""
    from pathlib import Path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    single_condition_fleet().to_csv(out / "fleet.csv", index=False)
    product_failures().to_csv(out / "parts.csv", index=False)
    process_table().to_csv(out / "process.csv", index=False)
    samples, runs = tool_wear_runs()
    samples.to_csv(out / "samples.csv", index=False)
    runs.to_csv(out / "runs.csv", index=False)


if __name__ == "__main__":
    import sys

    write_all(sys.argv[1] if len(sys.argv) > 1 else "var/shapes")
