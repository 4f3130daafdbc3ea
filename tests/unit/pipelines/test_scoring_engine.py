"""Scoring core: bad-input policy, deterministic window ends, rebuild equals no restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from contracts.messages import AlertAction, MachineState, MaintenanceDone, TelemetrySample
from contracts.plant import load_plant
from pipelines.features import FeatureSpec, compute, feature_names
from pipelines.health import AlertRules, OpenAlert
from pipelines.scoring.buffers import Outcome
from pipelines.scoring.engine import ScoringEngine
from pipelines.testing.samplestream import samples
from pipelines.testing.toymodel import toy_bundle
from runtime.settings import LineWatchSettings

PLANT = load_plant(LineWatchSettings().plant_file)
CNC = "line-1/cnc-01"
DEGRADING = ("line-1/cnc-02", "line-2/robot-01")


@lru_cache
def bundles() -> dict:
    return {"cnc": toy_bundle("cnc"), "robot": toy_bundle("robot")}


def engine(**kw) -> ScoringEngine:
    return ScoringEngine(PLANT, bundles(), AlertRules(raise_after=2, clear_after=2), **kw)


def stream(n: int, **kw) -> list[TelemetrySample]:
    return list(samples(PLANT, n, degrading=DEGRADING, **kw))


def run(eng: ScoringEngine, items: list[TelemetrySample], batch: int = 400, replay: bool = False,
        alert_state=None) -> tuple[list, list]:
    scores, alerts = [], []
    for i in range(0, len(items), batch):
        for s in items[i:i + batch]:
            eng.ingest(s, 0, replay=replay)
        out = eng.score_pending(alert_state)
        scores += out.scores
        alerts += out.alerts
    return scores, alerts


@lru_cache
def full_run() -> tuple[list, list, list]:
    """300 samples per machine scored without interruption (shared by two tests)."""
    items = stream(300)
    scores, alerts = run(engine(), items)
    return items, scores, alerts


def test_scores_every_nth_sample_by_seq_with_deterministic_ids() -> None:
    eng = engine()
    scores, _ = run(eng, stream(40))
    n_machines = len(PLANT.machines())
    assert len(scores) == n_machines * 40 // 5  # toy model step = 5
    cnc = [s for s in scores if s.machine_id == CNC]
    assert [s.ts.minute for s in cnc] == [4, 9, 14, 19, 24, 29, 34, 39]  # seq 4, 9, 14, ...
    first = cnc[0]
    assert first.score_id == f"{CNC}|{first.ts.isoformat()}|cnc-toy-0"
    assert set(first.failure_probability) == {"tool_wear", "spindle_bearing", "coolant"}
    assert 0 <= first.health <= 100 and first.top_factors


def test_scores_weigh_each_mode_against_its_planning_lead() -> None:
    from contracts.failure_modes import PLANNING_LEAD_H
    from pipelines.health import component_health, health

    _, scores, _ = full_run()
    for s in scores[:50]:
        assert s.mode_lead_hours == {m: PLANNING_LEAD_H[m] for m in s.failure_probability}
        probs, horizons, leads = s.failure_probability, s.mode_horizon_hours, s.mode_lead_hours
        assert s.health == health(probs, s.rul_hours, s.horizon_hours, horizons, leads, s.rul_mode)
        assert s.component_health == component_health(probs, s.horizon_hours, horizons, leads, s.rul_hours,
                                                      s.rul_mode)


def test_bad_input_policy() -> None:
    eng = engine()
    s0, s1, s2 = [s for s in stream(3) if s.machine_id == CNC]
    assert eng.ingest(s0, 0) == (Outcome.OK, [])
    assert eng.ingest(s0, 0)[0] is Outcome.DUPLICATE
    assert eng.ingest(s2, 0)[0] is Outcome.OK
    assert eng.ingest(s1, 0)[0] is Outcome.OUT_OF_ORDER
    assert len(eng.windows[CNC]) == 2
    hot = s2.model_copy(update={"ts": s2.ts + timedelta(minutes=1), "seq": 3,
                                "signals": {**s2.signals, "spindle_bearing_temp_c": 2500.0}})
    assert eng.ingest(hot, 0) == (Outcome.SENSOR_FAULT, ["spindle_bearing_temp_c"])
    win = eng.windows[CNC]
    assert np.isnan(win.values[-1][win.signals.index("spindle_bearing_temp_c")])
    stranger = s0.model_copy(update={"machine_id": "line-9/cnc-99"})
    assert eng.ingest(stranger, 0)[0] is Outcome.UNKNOWN_MACHINE


def test_degrading_machine_raises_and_healthy_one_does_not() -> None:
    _, _, alerts = full_run()
    raised = {a.machine_id for a in alerts if a.action is AlertAction.RAISED}
    assert "line-1/cnc-02" in raised
    assert all(a.message_en and a.message_zh and a.recommended_action for a in alerts)
    ids = [a.alert_id for a in alerts if a.action is AlertAction.RAISED]
    assert len(ids) == len(set(ids))


def test_rebuild_by_replay_gives_the_same_scores_and_alerts_as_no_restart() -> None:
    items, full_scores, full_alerts = full_run()
    cut = len(items) // 2
    first_scores, first_alerts = run(engine(), items[:cut])
    history = engine().history_rows() * len(PLANT.machines())
    restarted = engine()
    run(restarted, items[max(0, cut - history):cut], replay=True)  # what rebuild.py reads back from Kafka
    restarted.needs_restore({m.id for m in PLANT.machines()})

    def store_view(machine_id, ts):  # the alerts open before ts, as the store would return them
        opened: dict[str, OpenAlert] = {}
        for a in first_alerts:
            if a.machine_id == machine_id and a.ts < ts:
                opened[a.mode] = None if a.action is AlertAction.CLEARED else OpenAlert(a.alert_id, a.ts, a.priority)
        return {m: o for m, o in opened.items() if o}

    later_scores, later_alerts = run(restarted, items[cut:], alert_state=store_view)
    def dump(scores: list, tol: bool = False) -> list:  # rolling sums may differ in the last bit
        rows = sorted((s.model_dump() for s in scores), key=lambda d: d["score_id"])
        near = (lambda v: pytest.approx(v, abs=1e-9)) if tol else (lambda v: v)
        return [(d["score_id"], d["health"], near(d["failure_probability"]), near(d["rul_hours"]),
                 [f["feature"] for f in d["top_factors"]]) for d in rows]

    assert len(later_scores) > 0
    assert dump(first_scores + later_scores) == dump(full_scores, tol=True)
    key = lambda a: (a.alert_id, a.action, a.ts)
    assert sorted(map(key, first_alerts + later_alerts)) == sorted(map(key, full_alerts))


def test_champion_swap_keeps_windows_and_scores_with_new_version() -> None:
    eng = engine()
    run(eng, stream(20))
    eng.set_bundle("cnc", toy_bundle("cnc", seed=1, trees=10))
    scores, _ = run(eng, stream(5, first_seq=20))
    assert {s.model_version for s in scores if s.machine_id == CNC} == {"cnc-toy-1"}


def test_events_feed_the_maintenance_counters_once() -> None:
    eng = engine()
    items = stream(30)
    ev = MaintenanceDone(event_id="m1", machine_id=CNC, ts=items[0].ts, action="replace_tool", component="tool",
                         planned=True, duration_s=600)
    assert eng.add_event(ev) and not eng.add_event(ev)
    frame = eng.events.frame([CNC])
    assert list(frame["kind"]) == ["maintenance_done"]


def test_kind_without_champion_is_counted_not_scored() -> None:
    eng = ScoringEngine(PLANT, {"cnc": bundles()["cnc"]}, score_every=5)
    for s in stream(5):
        eng.ingest(s, 0)
    out = eng.score_pending()
    assert {s.machine_id.split("/")[0] for s in out.scores} == {"line-1"}
    assert out.unscored == len(PLANT.machines("robot"))


@pytest.mark.parametrize("value", [-5.0, 1e9])
def test_absurd_speed_is_a_sensor_fault(value: float) -> None:
    eng = engine()
    s = stream(1)[0].model_copy(update={"signals": {"spindle_speed_rpm": value}})
    assert eng.ingest(s, 0)[0] is Outcome.SENSOR_FAULT


def test_streaming_features_equal_the_training_features_on_every_column() -> None:
    """The ring buffers + ``window_features`` give the numbers ``compute`` gives training
    on the same history, to 1e-9, for every feature (windows, baseline z, condition
    normalisation, counters), with idle samples and a maintenance event in the stream."""
    spec = FeatureSpec(windows=(5, 20), stats=("mean", "std", "min", "max", "slope"), step=1, baseline_rows=30,
                       condition_signal="spindle_speed_rpm", components=("tool",))

    @dataclass
    class SpecOnly:
        feature_spec: FeatureSpec

    eng = ScoringEngine(PLANT, {}, score_every=1, extra_rows=400)
    eng.bundles["cnc"] = SpecOnly(spec)  # only its spec is used here
    items = [s if s.seq % 17 else s.model_copy(update={"state": MachineState.IDLE})
             for s in stream(120) if eng.kinds[s.machine_id] == "cnc"]
    ev = MaintenanceDone(event_id="m1", machine_id=CNC, ts=items[150].ts, action="replace_tool", component="tool",
                         planned=True, duration_s=60)
    eng.add_event(ev)
    rows = []
    for s in items:
        outcome, faulted = eng.ingest(s, 0)
        assert outcome in (Outcome.OK, Outcome.SENSOR_FAULT)
        # a value flagged by the sanity / signal-quality checks is scored as missing
        rows.append({"machine_id": s.machine_id, "ts": s.ts, "state": s.state.value,
                     **{k: (None if k in faulted else v) for k, v in s.signals.items()}})
    due = eng._due  # noqa: SLF001 - the windows the engine holds due, which features() takes
    assert len(due) == len(items)
    got = eng.features(eng.bundles["cnc"], due)
    frame = pd.DataFrame(rows)
    events = pd.DataFrame([{"machine_id": CNC, "ts": ev.ts, "kind": ev.kind, "component": ev.component}])
    want = compute(frame, spec.model_copy(update={"signals": eng.windows[CNC].signals}), events)
    want = want.set_index(["machine_id", "ts"]).loc[[(d.machine_id, pd.Timestamp(d.ts)) for d in due]]
    names = feature_names(spec, list(eng.windows[CNC].signals))
    assert list(want.columns[1:]) == names
    ref = want[names].to_numpy(float)
    assert np.isfinite(ref).mean() > 0.8  # mostly real numbers, not NaN on both sides
    for j, name in enumerate(names):
        np.testing.assert_allclose(got[:, j], ref[:, j], rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)
