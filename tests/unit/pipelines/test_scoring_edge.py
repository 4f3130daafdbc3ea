"""Scorer edge rules: time far from the record time, unknown signals."""

from __future__ import annotations

from datetime import datetime

from contracts.plant import load_plant
from pipelines.scoring.sanity import TimeRules, screen
from pipelines.testing.samplestream import samples
from runtime.settings import LineWatchSettings

PLANT = load_plant(LineWatchSettings().plant_file)
CNC = "line-1/cnc-01"
SENSORS = frozenset(s.name for s in PLANT.machine(CNC).sensors)


def cnc_stream(n: int, **kw):
    return [s for s in samples(PLANT, n, **kw) if s.machine_id == CNC]


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def test_time_far_from_the_record_time_is_rejected_with_the_limit_named() -> None:
    s = cnc_stream(1)[0]
    rules = TimeRules(max_future_s=3600, max_past_s=86_400)
    assert screen(s, ms(s.ts) + 5_000, rules, SENSORS) is None  # 5 s skew is fine
    kind, reason = screen(s, ms(s.ts) - 2 * 3600_000, rules, SENSORS)
    assert kind == "TimeTooFarAhead" and "7,200 s after its Kafka record time" in reason
    assert "LINEWATCH_SCORING__MAX_FUTURE_S" in reason
    kind, reason = screen(s, ms(s.ts) + 3 * 86_400_000, rules, SENSORS)
    assert kind == "TimeTooFarBehind" and "3.0 days before" in reason
    # no record time: the wall clock is the reference
    kind, reason = screen(s, -1, rules, SENSORS, now_ms=ms(s.ts) + 2 * 86_400_000)
    assert kind == "TimeTooFarBehind" and "the wall clock" in reason
    assert screen(s, ms(s.ts) + 10 * 86_400_000, TimeRules(0, 0), SENSORS) is None  # 0 = no limit


def test_a_sample_with_no_sensor_of_its_machine_is_rejected_and_partial_ones_pass() -> None:
    s = cnc_stream(1)[0]
    stranger = s.model_copy(update={"signals": {f"s{i}_c": 1.0 for i in range(7)}})
    kind, reason = screen(stranger, ms(s.ts), TimeRules(), SENSORS, "demo.yaml")
    assert kind == "UnknownSignals" and f"{CNC} in demo.yaml" in reason and "(7 in all)" in reason
    partial = s.model_copy(update={"signals": {**s.signals, "bogus_c": 1.0}})
    assert screen(partial, ms(s.ts), TimeRules(), SENSORS) is None
    assert screen(s.model_copy(update={"signals": {}}), ms(s.ts), TimeRules(), SENSORS) is None  # all dropout
