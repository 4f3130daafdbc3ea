"""Signal-quality detectors: each fault is found when it is there and not when it is not."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from contracts.plant import load_plant
from pipelines.signalquality import Fault, MachineQuality, QualityConfig, SignalQuality, range_limits
from runtime.settings import LineWatchSettings

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PLANT = load_plant(LineWatchSettings().plant_file)
CNC = PLANT.machines("cnc")[0]


def at(i: int, period_s: float = 60) -> datetime:
    return T0 + timedelta(seconds=i * period_s)


def noisy(rng: random.Random, mean: float = 5.0, sd: float = 0.05) -> float:
    return rng.gauss(mean, sd)


def test_a_value_stuck_for_ten_minutes_is_stuck_and_a_live_one_is_not() -> None:
    rng = random.Random(1)
    live, dead = SignalQuality(span=2.0), SignalQuality(span=2.0)
    faults_dead = []
    for i in range(30):
        assert live.update(at(i), noisy(rng)) is None
        faults_dead.append(dead.update(at(i), 4.2))
    # stuck from 600 s after the first of the identical values (i=10 at 60 s samples), not before
    assert faults_dead[:10] == [None] * 10 and set(faults_dead[10:]) == {Fault.STUCK}
    assert dead.update(at(30), 4.3) is None  # it moved: healthy again


def test_stuck_needs_enough_samples_and_ignores_idle_time() -> None:
    fast = SignalQuality(span=1.0, config=QualityConfig(stuck_s=600, stuck_min_samples=5))
    assert fast.update(at(0), 1.0) is None and fast.update(at(1, 700), 1.0) is None  # 700 s, 2 samples
    idle = SignalQuality(span=1.0)
    for i in range(30):  # a spindle at 0 rpm while idle is not a dead sensor
        assert idle.update(at(i), 0.0, running=False) is None


def test_out_of_range_uses_the_plant_file_limits() -> None:
    limits = range_limits(CNC)
    low, high = limits["coolant_temp_c"]
    sensor = CNC.sensor("coolant_temp_c")
    assert low >= -60 and high <= 600 and high > sensor.normal_high
    sq = SignalQuality(low, high, span=sensor.normal_high - sensor.normal_low)
    assert sq.update(at(0), sensor.normal_high) is None
    assert sq.update(at(1), 900.0) is Fault.OUT_OF_RANGE


def test_missing_after_three_samples_without_a_value() -> None:
    sq = SignalQuality(span=1.0)
    assert [sq.update(at(i), None) for i in range(4)] == [None, None, Fault.MISSING, Fault.MISSING]
    assert sq.update(at(5), 1.0) is None


def test_a_single_spike_is_a_spike_and_repeated_ones_are_noisy() -> None:
    rng = random.Random(2)
    sq = SignalQuality(span=2.0)
    for i in range(20):
        assert sq.update(at(i), noisy(rng)) is None
    assert sq.update(at(20), 9.0) is Fault.SPIKE
    assert sq.update(at(21), noisy(rng)) is None
    sq.update(at(22), 9.5)
    assert sq.update(at(23), 0.5) is Fault.NOISY


def test_a_level_shift_is_re_based_not_noisy_for_ever() -> None:
    """A new program's load moves torque by ~25 %: after ``shift_samples`` values the signal is healthy
    again (before the fix every later value stayed a spike and the scorer excluded the signal)."""
    rng = random.Random(4)
    sq = SignalQuality(span=8.5)
    for i in range(30):
        assert sq.update(at(i), noisy(rng, 10.0, 0.3)) is None
    shifted = [sq.update(at(30 + i), noisy(rng, 12.8, 0.3)) for i in range(40)]
    assert shifted[:2] == [Fault.SPIKE, Fault.SPIKE]  # excluded: they might have been spikes
    assert set(shifted[2:]) == {None}
    # alternating jumps do not agree with each other: still noisy
    flip = [sq.update(at(80 + i), 12.8 + (8.0 if i % 2 else -8.0)) for i in range(12)]
    assert Fault.NOISY in flip


def test_values_while_not_running_are_not_spikes_and_do_not_move_the_reference() -> None:
    rng = random.Random(5)
    sq = SignalQuality(span=8.5)
    for i in range(30):
        sq.update(at(i), noisy(rng, 10.0, 0.3))
    assert {sq.update(at(30 + i), 0.0, running=False) for i in range(20)} == {None}  # idle: 0 N·m
    assert {sq.update(at(50 + i), noisy(rng, 10.0, 0.3)) for i in range(20)} == {None}
    assert sq.update(at(70), 40.0) is Fault.SPIKE  # the running reference survived the idle period


def test_machine_quality_reports_changes_once_per_transition() -> None:
    rng = random.Random(3)
    mq = MachineQuality(CNC)
    names = [s.name for s in CNC.sensors]
    stuck = "coolant_pressure_bar" if "coolant_pressure_bar" in names else names[0]
    changes = []
    for i in range(40):
        values = {s.name: noisy(rng, (s.normal_low + s.normal_high) / 2, (s.normal_high - s.normal_low) / 50)
                  for s in CNC.sensors}
        if 5 <= i < 30:
            values[stuck] = 3.3
        faults, ch = mq.update(at(i), values)
        changes += ch
    assert [(c.signal, c.fault, c.previous) for c in changes] == [
        (stuck, Fault.STUCK, None), (stuck, None, Fault.STUCK)]
    assert changes[0].ts == at(15)  # 10 minutes after the value froze at i=5
    assert mq.get() == {}
