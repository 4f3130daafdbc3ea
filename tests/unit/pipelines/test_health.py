"""Health score, bands, alert rules with hysteresis, and the bilingual alert texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.messages import AlertAction, Factor, HealthScore
from pipelines.health import AlertRules, AlertTracker, Band, OpenAlert, band, component_health, health
from pipelines.health.text import alert_messages, factor_sentence, signal_text

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)
M = "line-1/cnc-01"
FACTOR = Factor(feature="spindle_vibration_rms_mm_s__mean_30m", contribution=0.4, value=3.9,
                normal_low=0.8, normal_high=1.6)


def score(i: int, p: float, rul: float | None = None, machine: str = M) -> HealthScore:
    ts = T0 + timedelta(minutes=i)
    return HealthScore(score_id=f"{machine}|{ts.isoformat()}|m1", machine_id=machine, ts=ts, model_version="m1",
                       health=health({"tool_wear": p}, rul, 24.0), horizon_hours=24.0,
                       failure_probability={"tool_wear": p}, rul_hours=rul, rul_mode="tool_wear" if rul else None,
                       top_factors=[FACTOR])


def run(tracker: AlertTracker, probs: list[float], start: int = 0) -> list:
    return [e for i, p in enumerate(probs, start) for e in tracker.step(score(i, p))]


@pytest.mark.parametrize(("value", "expected"), [(100, Band.GOOD), (80, Band.GOOD), (79.9, Band.WATCH),
                                                 (50, Band.WATCH), (49.9, Band.ACT), (0, Band.ACT)])
def test_bands(value: float, expected: Band) -> None:
    assert band(value) is expected


def test_health_falls_with_probability_and_short_rul() -> None:
    assert health({}, None, 24) == 100.0
    assert health({"a": 0.1, "b": 0.3}, None, 24) == 70.0  # worst mode decides
    assert health({"a": 0.0}, 24.0, 24) == pytest.approx(63.2, abs=0.1)  # RUL = horizon → watch
    assert band(health({"a": 0.0}, 12.0, 24)) is Band.ACT
    assert health({"a": 0.0}, 1000.0, 24) > 95
    assert health({"a": float("nan")}, None, 24) == 100.0  # a broken probability never yields NaN


def test_component_health_takes_worst_mode_per_component() -> None:
    assert component_health({"tool_wear": 0.2, "coolant": 0.5}) == {"tool": 80.0, "coolant_system": 50.0}


LEADS = {"tool_wear": 0.5, "spindle_bearing": 48.0, "coolant": 4.0}


def test_a_tool_ageing_normally_is_not_act() -> None:
    # RUL 8 h, lead 0.5 h: exp(-3 * 0.5 / 8) = 0.829 -> 82.9 (good), where the old formula gave
    # 100 * (1 - exp(-8 / 24)) = 28.3 (act)
    assert health({}, 8.0, 24.0) == 28.3
    assert health({"tool_wear": 0.0}, 8.0, 24.0, leads=LEADS, rul_mode="tool_wear") == 82.9
    # RUL 4 h: exp(-1.5 / 4) = 0.687 -> watch
    assert health({"tool_wear": 0.0}, 4.0, 24.0, leads=LEADS, rul_mode="tool_wear") == 68.7
    # P(tool fails within 24 h) = 0.9: 0.1 ** (1.5 / 24) = 0.866 -> good
    assert health({"tool_wear": 0.9}, None, 24.0, leads=LEADS) == 86.6
    # a tool within minutes of failing is act: p = 0.9 within a 1-h horizon, 0.1 ** 1.5 = 0.032
    assert band(health({"tool_wear": 0.9}, None, 24.0, {"tool_wear": 1.0}, LEADS)) is Band.ACT


def test_a_bearing_that_needs_two_days_to_plan_is_act_at_even_odds_over_four_days() -> None:
    # p = 0.5 within 96 h, lead 48 h: 0.5 ** (144 / 96) = 0.354 -> 35.4
    assert health({"spindle_bearing": 0.5}, None, 24.0, {"spindle_bearing": 96.0}, LEADS) == 35.4
    # the same p over 24 h for a 0.5-h lead is good: 0.5 ** (1.5 / 24) = 0.958
    assert health({"tool_wear": 0.5}, None, 24.0, leads=LEADS) == 95.8
    # the band edges mean P(fail within 3 leads): 50 % at health 50, 20 % at health 80
    p50 = 1 - 0.5 ** (96 / 144)  # P(fail within 96 h) at which failing within 144 h is even odds
    assert health({"spindle_bearing": p50}, None, 96.0, leads=LEADS) == 50.0
    p20 = 1 - 0.8 ** (96 / 144)
    assert health({"spindle_bearing": p20}, None, 96.0, leads=LEADS) == 80.0


def test_rul_is_weighed_against_its_modes_lead_or_the_shortest() -> None:
    probs = {"tool_wear": 0.0, "spindle_bearing": 0.0}
    assert health(probs, 8.0, 24.0, leads=LEADS) == 82.9  # rul_mode unknown: the shortest lead (tool, 0.5 h)
    assert health(probs, 8.0, 24.0, leads=LEADS, rul_mode="spindle_bearing") == 0.0  # exp(-144 / 8)
    assert health(probs, 200.0, 24.0, leads=LEADS, rul_mode="spindle_bearing") == 48.7  # exp(-144 / 200)
    assert health({"x": 0.0}, 8.0, 24.0, leads=LEADS) == 28.3  # no lead for any scored mode: old RUL term


def test_a_mode_without_a_lead_keeps_the_old_term() -> None:
    assert health({"tool_wear": 0.3, "other": 0.4}, None, 24.0, leads=LEADS) == 60.0  # other: 100 * (1 - 0.4)
    # lead = H / 3 is the same thing
    assert health({"coolant": 0.4}, None, 12.0, leads={"coolant": 4.0}) == 60.0
    assert health({"a": float("nan")}, None, 24, leads={"a": 1.0}) == 100.0


def test_component_health_per_component_with_leads_and_the_rul_in_its_modes_component() -> None:
    probs = {"tool_wear": 0.9, "spindle_bearing": 0.5, "coolant": 0.0}
    horizons = {"spindle_bearing": 96.0}
    got = component_health(probs, 24.0, horizons, LEADS, rul_hours=4.0, rul_mode="tool_wear")
    assert got == {"tool": 68.7, "spindle_bearing": 35.4, "coolant_system": 100.0}  # tool: min(86.6, RUL 68.7)
    machine = health(probs, 4.0, 24.0, horizons, LEADS, "tool_wear")
    assert machine == min(got.values()) == 35.4
    assert component_health(probs) == {"tool": 10.0, "spindle_bearing": 50.0, "coolant_system": 100.0}  # no leads


def test_raise_needs_consecutive_scores_and_clear_needs_lower_level() -> None:
    tracker = AlertTracker(AlertRules(default_threshold=0.5, clear_ratio=0.6, raise_after=2, clear_after=2))
    # a single spike does not raise; hovering between 0.3 and 0.5 neither raises nor clears
    events = run(tracker, [0.1, 0.9, 0.1, 0.6, 0.65, 0.45, 0.35, 0.49, 0.2, 0.1, 0.9])
    assert [(e.action, e.ts) for e in events] == [
        (AlertAction.RAISED, T0 + timedelta(minutes=4)),
        (AlertAction.CLEARED, T0 + timedelta(minutes=9)),
    ]
    assert events[0].alert_id == f"{M}|tool_wear|{(T0 + timedelta(minutes=4)).isoformat()}"
    assert events[1].alert_id == events[0].alert_id


def test_one_open_alert_per_machine_and_mode() -> None:
    tracker = AlertTracker(AlertRules(raise_after=1))
    events = run(tracker, [0.6] * 20)
    assert [e.action for e in events] == [AlertAction.RAISED]
    assert list(tracker.open_alerts(M)) == ["tool_wear"]


def test_priority_follows_probability_and_rul_with_updates_only_on_change() -> None:
    rules = AlertRules(raise_after=1)
    assert rules.priority(0.55, None, 24) == "low"
    assert rules.priority(0.75, None, 24) == "medium"
    assert rules.priority(0.9, None, 24) == "high"
    assert rules.priority(0.55, 5.0, 24) == "high"  # little time to respond
    tracker = AlertTracker(rules)
    events = run(tracker, [0.55, 0.56, 0.75, 0.76, 0.9, 0.9])
    assert [(e.action, e.priority) for e in events] == [
        (AlertAction.RAISED, "low"), (AlertAction.UPDATED, "medium"), (AlertAction.UPDATED, "high")]


def test_replay_gives_identical_events() -> None:
    probs = [0.2, 0.7, 0.8, 0.9, 0.3, 0.1, 0.1, 0.1, 0.8, 0.8]
    assert run(AlertTracker(), probs) == run(AlertTracker(), probs)


def test_restored_open_alert_is_not_raised_again() -> None:
    tracker = AlertTracker(AlertRules(raise_after=1))
    tracker.restore(M, "tool_wear", OpenAlert(f"{M}|tool_wear|x", T0, "low"))
    events = run(tracker, [0.6, 0.6, 0.1, 0.1, 0.1])
    assert [e.action for e in events] == [AlertAction.CLEARED]
    assert events[0].alert_id == f"{M}|tool_wear|x"


def test_suppressed_machine_does_not_raise() -> None:
    tracker = AlertTracker(AlertRules(raise_after=1))
    assert tracker.step(score(0, 0.9), suppressed=True) == []
    assert [e.action for e in tracker.step(score(1, 0.9))] == [AlertAction.RAISED]


def test_model_thresholds_override_default() -> None:
    tracker = AlertTracker(AlertRules(raise_after=1))
    assert tracker.step(score(0, 0.3), thresholds={"tool_wear": 0.25})[0].action is AlertAction.RAISED


def test_messages_name_mode_probability_rul_factors_and_action_in_both_languages() -> None:
    en, zh = alert_messages("tool_wear", 0.71, 24.0, 12.0, [FACTOR])
    assert "Tool wear" in en and "71%" in en and "12 h" in en and "above normal 0.8–1.6" in en
    assert "3.9 mm/s" in en and "Replace the cutting tool" in en
    assert zh.startswith("刀具磨损：未来 24 小时内故障概率 71%")
    assert "剩余使用寿命（RUL）约 12 小时" in zh and "主要影响因素：主轴振动有效值" in zh
    assert "高于正常范围 0.8–1.6" in zh and "建议措施：" in zh


def test_factor_sentence_and_signal_names() -> None:
    assert signal_text("joint3_temp_c") == ("joint3 temperature", "joint3温度", "°C")
    low = Factor(feature="coolant_pressure_bar", contribution=0.2, value=4.0, normal_low=8.0, normal_high=11.0)
    en, zh = factor_sentence([low, Factor(feature="x_c", contribution=0.1, value=None)])
    assert "below normal 8–11" in en and "x: no value yet" in en and "低于正常范围" in zh
    assert signal_text("hours_since_failure")[:2] == ("hours since the last failure", "距上次故障时间")
    assert signal_text("spindle_power_kw__slope_60") == ("spindle power (trend, last 60 samples)",
                                                          "主轴功率（变化趋势，近 60 个采样）", "kW")
    assert signal_text("coolant_flow_l_min")[2] == "L/min"
    assert factor_sentence([]) == ("", "")


def test_bad_rule_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        AlertRules(default_threshold=1.5)
    with pytest.raises(ValueError):
        AlertRules(raise_after=0)


def test_an_alert_ends_with_its_episode_and_a_new_episode_raises_a_new_alert() -> None:
    from datetime import datetime, timedelta

    from contracts.messages import AlertAction, HealthScore
    from pipelines.health import AlertRules, AlertTracker

    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    tracker = AlertTracker(AlertRules(raise_after=2, clear_after=3))

    def score(h: float, p: float) -> HealthScore:
        ts = t0 + timedelta(hours=h)
        return HealthScore(score_id=f"l/m|{ts}", machine_id="l/m", ts=ts, model_version="v", health=50,
                           horizon_hours=24,
                           mode_horizon_hours={"tool_wear": 4.0}, failure_probability={"tool_wear": p})

    events = [e for h in (0, 1, 2) for e in tracker.step(score(h, 0.9), {"tool_wear": 0.5})]
    assert [e.action for e in events] == [AlertAction.RAISED]
    first = events[0].alert_id
    assert tracker.resolve("l/m", "spindle_bearing", t0, "restored") is None  # nothing open for that mode
    cleared = tracker.resolve("l/m", "tool_wear", t0 + timedelta(hours=2, minutes=30), "restored")
    assert cleared is not None and cleared.action == AlertAction.CLEARED and cleared.alert_id == first
    assert cleared.probability == 0.9 and "restored" in cleared.message_en
    assert tracker.resolve("l/m", "tool_wear", t0 + timedelta(hours=3), "failed") is None  # already closed
    again = [e for h in (3, 4) for e in tracker.step(score(h, 0.9), {"tool_wear": 0.5})]
    assert [e.action for e in again] == [AlertAction.RAISED] and again[0].alert_id != first
