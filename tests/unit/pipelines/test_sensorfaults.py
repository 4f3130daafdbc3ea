"""The scorer's sensor-fault glue: faulted values are excluded, one alert per fault onset with a
deterministic id, cleared when the signal is healthy, nothing emitted while replaying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.messages import AlertAction, MachineState, Quality, TelemetrySample
from contracts.plant import load_plant
from pipelines.scoring.engine import ScoringEngine
from pipelines.scoring.sensorfaults import SensorFaults, alert_mode
from pipelines.testing.samplestream import samples
from runtime.settings import LineWatchSettings

PLANT = load_plant(LineWatchSettings().plant_file)
CNC = PLANT.machines("cnc")[0]
SIGNAL = next(s.name for s in CNC.sensors if "coolant" in s.name)


def stream(frozen_from: int = 5, frozen_to: int = 30, n: int = 40) -> list[TelemetrySample]:
    out, frozen = [], None
    for s in samples(PLANT, n):
        if s.machine_id != CNC.id:
            continue
        if frozen_from <= s.seq < frozen_to:
            frozen = frozen if frozen is not None else s.signals[SIGNAL]
            s = s.model_copy(update={"signals": {**s.signals, SIGNAL: frozen}})
        out.append(s)
    return out


def test_stuck_value_is_excluded_alerted_once_and_cleared() -> None:
    sf = SensorFaults(PLANT)
    excluded = []
    for s in stream():
        cleaned, faults = sf.observe(s, s.signals)
        excluded.append(cleaned[SIGNAL] is None)
        assert set(cleaned) == set(s.signals)
    assert excluded.index(True) == 15 and excluded[15:30] == [True] * 15 and not any(excluded[30:])
    events = sf.drain()
    assert [(e.action, e.mode) for e in events] == [(AlertAction.RAISED, alert_mode(SIGNAL)),
                                                    (AlertAction.CLEARED, alert_mode(SIGNAL))]
    raised, cleared = events
    assert raised.alert_id == cleared.alert_id == f"{CNC.id}|sensor_fault:{SIGNAL}|{raised.ts.isoformat()}"
    assert raised.model_version == "signal-quality-v1:stuck" and "传感器故障" in raised.message_zh
    assert sf.drain() == []


def test_replay_advances_without_emitting_and_offline_samples_are_ignored() -> None:
    sf = SensorFaults(PLANT)
    for s in stream(frozen_to=40):
        sf.observe(s, s.signals, replay=True)
    assert sf.drain() == [] and sf.current(CNC.id) == {SIGNAL: "stuck"}
    off = TelemetrySample(machine_id=CNC.id, ts=datetime(2027, 1, 1, tzinfo=UTC), seq=99, signals={},
                          state=MachineState.OFFLINE)
    assert sf.observe(off, {}) == ({}, {})


def test_bad_quality_counts_as_missing() -> None:
    sf = SensorFaults(PLANT)
    items = stream(frozen_from=99)
    for s in items[:5]:
        s = s.model_copy(update={"quality": {SIGNAL: Quality.BAD}})
        _, faults = sf.observe(s, s.signals)
    assert faults == {SIGNAL: "missing"}


def test_the_engine_emits_sensor_alerts_with_its_batch_even_without_a_model() -> None:
    engine = ScoringEngine(PLANT, {}, score_every=5)
    for s in stream():
        engine.ingest(s, 0)
    batch = engine.score_pending()
    assert [a.mode for a in batch.alerts] == [alert_mode(SIGNAL)] * 2 and not batch.scores
    t0 = stream()[0].ts
    assert batch.alerts[0].ts - t0 == timedelta(minutes=15)  # frozen at 5 min, 10 min later
