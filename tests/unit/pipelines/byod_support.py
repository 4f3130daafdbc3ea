"""Helpers for the bring-your-own-data tests: a small run-to-failure fleet, the CLI in-process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def fleet(units: int = 14, seed: int = 0) -> pd.DataFrame:
    """Run-to-failure units with two operating regimes and a wear signal that grows towards failure."""
    rng = np.random.default_rng(seed)
    parts = []
    for u in range(units):
        life = int(rng.integers(50, 90))
        age = np.arange(1, life + 1)
        regime = rng.integers(0, 2, life)
        wear = (age / life) ** 2
        parts.append(pd.DataFrame({
            "machine_id": f"unit-{u:03d}", "cycle": age, "setting1": regime * 10.0 + rng.normal(0, 0.01, life),
            "s1": 100 + 300 * regime + 5 * wear + rng.normal(0, 0.3, life),
            "s2": 50 - 20 * regime - 3 * wear + rng.normal(0, 0.3, life),
            "failure_mode": np.where(age == life, "wear_out", "")}))
    return pd.concat(parts, ignore_index=True)


def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """Run the console entry point in-process: (exit code, stdout, stderr)."""
    import sys

    from services.cli.main import run

    monkeypatch.setattr(sys, "argv", ["linewatch", *args])
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err
