"""The sensor model: noise around the truth, drift that stays bounded, and each kind of fault."""

from __future__ import annotations

import numpy as np

from contracts.messages import Quality
from simulators.physics.sensors import FaultRates, Noise, SensorBank

NOISE = {"a_temp_c": Noise(0.2, 0.0, 2), "b_speed_rpm": Noise(2.0, 0.001, 0)}
TRUE = {"a_temp_c": 40.0, "b_speed_rpm": 8000.0}


def bank(rates: FaultRates, seed: int = 1) -> SensorBank:
    return SensorBank(list(NOISE), NOISE, TRUE, rates, np.random.default_rng(seed), 60.0)


def test_without_faults_readings_scatter_around_the_truth() -> None:
    b = bank(FaultRates.off())
    reads = [b.read(TRUE) for _ in range(5000)]
    temps = np.array([r[0]["a_temp_c"] for r in reads])
    assert all(not q for _, q in reads) and not np.isnan(temps).any()
    assert abs(temps.mean() - 40.0) < 0.5           # drift wanders but does not run away
    assert 0.15 < temps.std() < 1.0
    assert all(v == round(v, 2) for v in temps[:50])  # sensor resolution
    assert all(r[0]["b_speed_rpm"] == int(r[0]["b_speed_rpm"]) for r in reads[:50])


def test_dropouts_are_null_with_bad_quality() -> None:
    b = bank(FaultRates(dropout=0.2, stuck_start=0.0, spike=0.0))
    reads = [b.read(TRUE) for _ in range(500)]
    dropped = [(v, q) for v, q in reads if v["a_temp_c"] is None]
    assert 50 < len(dropped) < 150
    assert all(q["a_temp_c"] == Quality.BAD for _, q in dropped)


def test_stuck_sensor_repeats_its_last_value_without_flagging_it() -> None:
    b = bank(FaultRates(dropout=0.0, stuck_start=0.02, stuck_mean_samples=20, spike=0.0))
    temps = [b.read(TRUE)[0]["a_temp_c"] for _ in range(2000)]
    runs, longest = 1, 1
    for prev, cur in zip(temps, temps[1:], strict=False):
        runs = runs + 1 if cur == prev else 1
        longest = max(longest, runs)
    assert longest >= 10  # healthy noise at 0.01 resolution never repeats ten times


def test_spikes_are_rare_and_far_from_the_noise() -> None:
    b = bank(FaultRates(dropout=0.0, stuck_start=0.0, spike=0.01))
    temps = np.array([b.read(TRUE)[0]["a_temp_c"] for _ in range(5000)])
    far = np.abs(temps - np.median(temps)) > 1.2
    assert 20 < far.sum() < 100


def test_same_seed_same_readings() -> None:
    a, b, c = bank(FaultRates(), 5), bank(FaultRates(), 5), bank(FaultRates(), 6)
    ra = [a.read(TRUE) for _ in range(300)]
    assert ra == [b.read(TRUE) for _ in range(300)]
    assert ra != [c.read(TRUE) for _ in range(300)]
