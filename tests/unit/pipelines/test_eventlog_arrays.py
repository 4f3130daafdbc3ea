"""The scorer's event arrays (``EventLog.arrays``) hold what its table (``EventLog.frame``) holds,
and counters from them equal counters from the table, also after the part ring wraps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from contracts import FailureOccurred, MaintenanceDone, PartCompleted
from pipelines.features.counters import counters, counters_from
from pipelines.scoring import eventlog
from pipelines.scoring.eventlog import EventLog

M = "line-1/cnc-01"
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _events(n_parts: int) -> list[object]:
    out: list[object] = []
    for i in range(n_parts):
        ts = T0 + timedelta(minutes=5 * i, microseconds=i)  # sub-second times survive
        out.append(PartCompleted(event_id=f"p{i}", machine_id=M, ts=ts, part_id=f"x{i}", cycle_time_s=300,
                                 ideal_cycle_time_s=300, energy_kwh=0.5, good=True))
        if i % 37 == 5:
            out.append(MaintenanceDone(event_id=f"m{i}", machine_id=M, ts=ts, action="replace_tool",
                                       component="tool" if i % 2 else "coolant_system", planned=True,
                                       duration_s=300))
        if i % 53 == 7:
            out.append(FailureOccurred(event_id=f"f{i}", machine_id=M, ts=ts, mode="tool_wear", component="tool"))
    return out


def test_arrays_equal_the_table_and_give_the_same_counters(monkeypatch) -> None:
    monkeypatch.setattr(eventlog, "KEEP_PARTS", 50)  # the ring wraps twice
    log = EventLog()
    for e in _events(130):
        log.add(e)
        log.add(e)  # a duplicate changes nothing
    frame = log.frame([M])
    arrays = log.arrays(M)
    assert arrays is not None and log.arrays("line-1/cnc-02") is None
    ts = frame["ts"].to_numpy(dtype="datetime64[ns]")
    kind = frame["kind"].to_numpy(dtype=object)
    assert len(arrays.part_ts) == 50 == (kind == "part_completed").sum()
    np.testing.assert_array_equal(arrays.part_ts, ts[kind == "part_completed"])
    np.testing.assert_array_equal(np.sort(arrays.maintenance_ts), np.sort(ts[kind == "maintenance_done"]))
    np.testing.assert_array_equal(np.sort(arrays.failure_ts), np.sort(ts[kind == "failure"]))
    rows = (np.array([T0.replace(tzinfo=None) + timedelta(hours=h) for h in (1, 4.2, 7.7, 9.1, 10.9, 11.0)],
                     dtype="datetime64[us]")
            .astype("datetime64[ns]"))
    components = ("tool", "coolant_system", "spindle_bearing")
    want = counters(rows, frame, components)
    got = counters_from(rows, arrays.maintenance_ts, arrays.maintenance_component, arrays.failure_ts,
                        arrays.part_ts, components)
    assert np.isfinite(want).sum() > 10  # real numbers, not NaN on both sides
    np.testing.assert_array_equal(got, want)
    log.forget(M)
    assert log.arrays(M) is None
