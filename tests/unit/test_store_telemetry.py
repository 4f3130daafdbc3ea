"""Per-minute telemetry aggregates read back by signal name, not by position."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.messages import TelemetrySample
from store.telemetry import MinuteAggregate, SignalMinute

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _sample(seconds: int, value: float | None) -> TelemetrySample:
    return TelemetrySample(machine_id="line-1/cnc-01", ts=T0 + timedelta(seconds=seconds), seq=seconds,
                           signals={"spindle_power_kw": value})


def test_a_signal_reads_back_by_name_with_its_mean():
    agg = MinuteAggregate("line-1/cnc-01", T0)
    for i, v in enumerate((7.0, None, 9.0, 5.0)):
        agg.add(_sample(i, v))
    assert agg.signal("spindle_power_kw") == SignalMinute(n=3, total=21.0, low=5.0, high=9.0, last=5.0)
    assert agg.signal("spindle_power_kw").mean == agg.mean("spindle_power_kw") == 7.0
    assert agg.signal("coolant_temp_c") is None


def test_the_stored_order_is_n_sum_min_max_last():
    assert SignalMinute.of([2, 3.0, 1.0, 2.0, 2.0]) == SignalMinute(n=2, total=3.0, low=1.0, high=2.0, last=2.0)
