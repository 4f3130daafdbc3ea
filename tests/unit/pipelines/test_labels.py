"""Labels on hand-made sequences: horizon, censoring, non-running rows, RUL cap, defects, feedback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts.errors import ContractError
from pipelines.training.labels import LabelSpec, make_labels

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def rows(hours: list[float], state: list[str] | None = None, machine: str = "l/m") -> pd.DataFrame:
    return pd.DataFrame({"machine_id": machine, "ts": [T0 + pd.Timedelta(hours=h) for h in hours],
                         "state": state or ["running"] * len(hours)})


def ev(kind: str, hour: float, machine: str = "l/m", **kw: object) -> dict:
    return {"machine_id": machine, "ts": T0 + pd.Timedelta(hours=hour), "kind": kind, **kw}


def test_failure_within_horizon_per_mode_and_censoring() -> None:
    r = rows([0, 1, 2, 3, 4, 5, 6, 7, 8])
    events = pd.DataFrame([ev("failure", 4.5, mode="tool_wear")])
    lab = make_labels(r, events, ["tool_wear", "coolant"], LabelSpec(horizon_hours=2, rul_cap_hours=5))
    # failure at 4.5 h: rows at 3 h and 4 h are within 2 h; 2 h is 2.5 h away
    assert lab["y_tool_wear"].tolist()[:7] == [0, 0, 0, 1, 1, 0, 0]
    # the last 2 h cannot be known to be failure-free: the data end (8 h) before their horizon does
    assert np.isnan(lab["y_tool_wear"].iloc[7]) and np.isnan(lab["y_tool_wear"].iloc[8])
    assert lab["y_coolant"].tolist()[:7] == [0] * 7  # another mode's failure is not this mode's
    assert lab["next_failure_mode"].iloc[0] == "tool_wear" and pd.isna(lab["next_failure_mode"].iloc[5])


def test_rul_is_capped_and_censored() -> None:
    r = rows([0, 1, 2, 3, 4, 5, 6, 10, 11])
    events = pd.DataFrame([ev("failure", 4.0, mode="m")])
    lab = make_labels(r, events, ["m"], LabelSpec(horizon_hours=1, rul_cap_hours=3))
    assert lab["rul_hours"].tolist()[:4] == [3, 3, 2, 1]
    # at 4 h (the failure instant) the next failure is unknown; 11 h of data leave 7 h >= cap
    assert lab["rul_hours"].iloc[4] == 3
    # rows within 3 h of the end without a later failure: censored
    assert np.isnan(lab["rul_hours"].iloc[7]) and np.isnan(lab["rul_hours"].iloc[8])


def test_not_running_rows_have_no_label() -> None:
    r = rows([0, 1, 2, 3], state=["running", "down", "maintenance", "running"])
    events = pd.DataFrame([ev("failure", 1.5, mode="m")])
    lab = make_labels(r, events, ["m"], LabelSpec(horizon_hours=2, rul_cap_hours=10),
                      {"l/m": T0 + pd.Timedelta(hours=20)})
    assert lab["y_m"].iloc[0] == 1 and lab["y_m"].iloc[3] == 0
    assert lab[["y_m", "rul_hours", "y_defect"]].iloc[1:3].isna().all().all()


def test_defect_risk_for_next_parts() -> None:
    r = rows([0, 1, 2, 3])
    parts = [ev("part_completed", 0.5 + i * 0.5, good=g) for i, g in enumerate([True, True, False, True, True, True])]
    lab = make_labels(r, pd.DataFrame(parts), [], LabelSpec(defect_parts=2))
    # parts at 0.5 1.0 1.5(bad) 2.0 2.5 3.0
    assert lab["y_defect"].iloc[0] == 0  # next two: 0.5, 1.0
    assert lab["y_defect"].iloc[1] == 1  # next two: 1.5 (bad), 2.0
    assert lab["y_defect"].iloc[2] == 0  # 2.5, 3.0
    assert np.isnan(lab["y_defect"].iloc[3])  # no parts seen after 3 h


def test_machines_are_labelled_separately() -> None:
    r = pd.concat([rows([0, 1, 2, 5], machine="l/a"), rows([0, 1, 2, 5], machine="l/b")], ignore_index=True)
    events = pd.DataFrame([ev("failure", 1.5, machine="l/b", mode="m")])
    lab = make_labels(r, events, ["m"], LabelSpec(horizon_hours=1, rul_cap_hours=3))
    assert lab["y_m"].tolist()[:3] == [0, 0, 0] and lab["y_m"].tolist()[4:7] == [0, 1, 0]


def test_feedback_confirmed_fault_counts_as_failure() -> None:
    r = rows([0, 1, 2, 3, 4, 5])
    fb = pd.DataFrame([{"machine_id": "l/m", "ts": T0 + pd.Timedelta(hours=2.5), "mode": "m",
                        "outcome": "confirmed_fault"},
                       {"machine_id": "l/m", "ts": T0 + pd.Timedelta(hours=4.5), "mode": "m",
                        "outcome": "false_alarm"}])
    lab = make_labels(r, None, ["m"], LabelSpec(horizon_hours=1, rul_cap_hours=2), feedback=fb)
    assert lab["y_m"].tolist()[:5] == [0, 0, 1, 0, 0]
    with pytest.raises(ContractError, match="unknown outcome"):
        make_labels(r, None, ["m"], LabelSpec(), feedback=fb.assign(outcome="perhaps"))


def test_each_mode_is_labelled_with_its_own_horizon() -> None:
    import pandas as pd

    from pipelines.training.labels import LabelSpec, make_labels

    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    rows = pd.DataFrame({"machine_id": "m", "ts": [t0 + pd.Timedelta(hours=h) for h in range(0, 40)],
                         "state": "running"})
    events = pd.DataFrame({"machine_id": "m", "kind": "failure", "ts": [t0 + pd.Timedelta(hours=30)] * 2,
                           "mode": ["tool_wear", "spindle_bearing"]})
    spec = LabelSpec(horizon_hours=24.0, mode_horizons=(("tool_wear", 4.0),))
    lab = make_labels(rows, events, ["tool_wear", "spindle_bearing"], spec)
    positive = lambda m: [h for h, y in enumerate(lab[f"y_{m}"]) if y == 1.0]
    assert positive("tool_wear") == [26, 27, 28, 29]            # failure at 30 h, 4-h horizon
    assert positive("spindle_bearing") == list(range(6, 30))    # the default 24 h
    assert spec.longest == 24.0 and LabelSpec(mode_horizons=(("reducer_wear", 72.0),)).longest == 72.0
