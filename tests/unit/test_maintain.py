"""``linewatch maintain``: the pilot's real policies fed from fake topic records (what the line and
the scorer publish, nothing hidden), commands out on the commands topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from contracts import AlertAction, AlertEvent, MaintenanceDone, PartCompleted
from contracts.topics import ALERTS, COMMANDS, EVENTS
from runtime.consumer import Record
from runtime.settings import LineWatchSettings
from services.maintain.core import Maintainer, describe
from services.maintain.worker import MaintainWorker
from services.pilot.decision import DEFAULT_ACTION_COSTS, ActionRule
from services.pilot.policies import FixedInterval, Predictive

T0 = datetime(2026, 1, 5, 6, tzinfo=UTC)
CNC = "line-1/cnc-01"
MACHINES = [CNC, "line-1/cnc-02", "line-2/robot-01"]
RULE = ActionRule(costs=dict(DEFAULT_ACTION_COSTS), model_thresholds={"tool_wear": 0.3, "spindle_bearing": 0.3})


def part(ts: datetime, machine: str = CNC) -> PartCompleted:
    return PartCompleted(event_id=f"{machine}|part|{ts.isoformat()}", machine_id=machine, ts=ts, part_id="p",
                         cycle_time_s=60.0, ideal_cycle_time_s=60.0, energy_kwh=0.2, good=True)


def alert(ts: datetime, p: float, mode: str = "tool_wear", machine: str = CNC,
          action: AlertAction = AlertAction.RAISED) -> AlertEvent:
    return AlertEvent(alert_id=f"{machine}|{mode}|{ts.isoformat()}", machine_id=machine, ts=ts, action=action,
                      mode=mode, priority="high", probability=p, model_version="cnc-test")


def predictive() -> Maintainer:
    return Maintainer(lambda start: Predictive(cooldown_h=6.0, rule=RULE), MACHINES, timedelta(minutes=30))


def test_alert_that_passes_the_rule_becomes_a_command() -> None:
    m = predictive()
    # tool wear at 60-s cycles: C_plan / C_fail is about 0.11, the model's threshold 0.3 is the floor
    assert RULE.threshold("tool_wear", 60.0) == pytest.approx(0.3)
    a = alert(T0 + timedelta(minutes=1), 0.8)
    decisions = m.feed([part(T0), a])
    assert [(d.command.machine_id, d.command.action, d.command.alert_id, d.command.reason) for d in decisions] == [
        (CNC, "replace_tool", a.alert_id, "predictive")]
    assert decisions[0].alert == a and decisions[0].command.ts == a.ts  # stamped with the line's clock
    assert "replace_tool on line-1/cnc-01" in describe(decisions[0], m.clock) and "p=0.80" in describe(
        decisions[0], m.clock)
    # the same alert again (at-least-once replay, or an update) is not acted on twice
    assert m.feed([alert(T0 + timedelta(minutes=1), 0.8), part(T0 + timedelta(hours=1))]) == []


def test_alert_below_the_rule_gives_no_command_until_it_rises() -> None:
    m = predictive()
    low = alert(T0, 0.2)
    assert m.feed([part(T0), low]) == []
    assert m.feed([part(T0 + timedelta(hours=1))]) == []  # reviewed again: still below the threshold
    high = low.model_copy(update={"action": AlertAction.UPDATED, "probability": 0.5,
                                  "ts": T0 + timedelta(hours=2)})
    decisions = m.feed([high])
    assert [d.command.alert_id for d in decisions] == [low.alert_id]


def test_cleared_alert_and_fresh_component_give_no_command() -> None:
    m = predictive()
    assert m.feed([part(T0), alert(T0, 0.2)]) == []
    assert m.feed([alert(T0 + timedelta(hours=1), 0.9, action=AlertAction.CLEARED)]) == []
    done = MaintenanceDone(event_id="d1", machine_id=CNC, ts=T0 + timedelta(hours=2), action="replace_tool",
                           component="tool", planned=False, duration_s=3600, reason="corrective")
    # raised 1 h after a repair: inside the 6-h cooldown, the scorer has not seen fresh data yet
    assert m.feed([done, alert(T0 + timedelta(hours=3), 0.95)]) == []


def test_reviews_follow_the_line_clock_not_each_batch() -> None:
    m = predictive()
    assert m.feed([part(T0)]) == []  # first review at the first record
    a = alert(T0 + timedelta(minutes=10), 0.9)
    assert m.feed([a]) == []  # 10 line-minutes later: the next review is at +30 min
    decisions = m.feed([part(T0 + timedelta(minutes=31))])
    assert [d.command.alert_id for d in decisions] == [a.alert_id]


def test_unknown_machine_and_naive_time_are_skipped_with_a_reason() -> None:
    m = predictive()
    stranger = alert(T0, 0.99, machine="line-9/cnc-99")
    assert m.feed([stranger, object()]) == []
    assert [s.reason for s in m.skipped] == ["unknown machine 'line-9/cnc-99': not in the plant file",
                                             "not a line event or alert: object"]
    assert m.policy is None and m.clock is None  # nothing usable: no clock, no policy yet


def test_preventive_policy_starts_its_clocks_at_the_first_record() -> None:
    from contracts.plant import load_plant

    plant = load_plant(Path(__file__).resolve().parents[2] / "simulators" / "plants" / "demo.yaml")
    m = Maintainer(lambda start: FixedInterval(plant=plant, intervals_h={"tool_wear": 10.0}, start=start),
                   [x.id for x in plant.machines()])
    assert m.feed([part(T0)]) == []
    assert m.feed([part(T0 + timedelta(hours=9))]) == []
    decisions = m.feed([part(T0 + timedelta(hours=10))])
    assert sorted(d.command.machine_id for d in decisions) == [x.id for x in plant.machines("cnc")]
    assert {d.command.reason for d in decisions} == {"preventive"} and all(d.alert is None for d in decisions)


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []
        self.flushed = 0

    def send(self, topic, message):
        self.sent.append((topic.name, message))

    def flush(self, timeout=None) -> None:
        self.flushed += 1

    def close(self, timeout=None) -> None:
        pass


def record(topic, value, offset: int) -> Record:
    return Record(topic.name, 0, offset, value.machine_id.encode(), value, topic.encode(value), 0)


def test_worker_publishes_commands_and_rejects_unknown_machines() -> None:
    producer = FakeProducer()
    registry = CollectorRegistry()
    worker = MaintainWorker(LineWatchSettings(), lambda start: Predictive(cooldown_h=6.0, rule=RULE),
                            registry=registry, producer=producer)  # type: ignore[arg-type]
    a = alert(T0, 0.9)
    stranger = alert(T0, 0.9, machine="line-9/cnc-99")
    rejected = worker.handle([record(EVENTS, part(T0), 0), record(ALERTS, a, 1), record(ALERTS, stranger, 2)])
    assert [(r.record.offset, r.reason) for r in rejected] == [
        (2, "unknown machine 'line-9/cnc-99': not in the plant file")]
    assert [(t, c.alert_id) for t, c in producer.sent] == [(COMMANDS.name, a.alert_id)]
    assert producer.flushed == 1  # flushed before the loop may commit the batch
    assert registry.get_sample_value("linewatch_maintain_commands_total", {"action": "replace_tool"}) == 1.0
    assert registry.get_sample_value("linewatch_maintain_line_time_seconds") == T0.timestamp()
    assert worker.handle([record(EVENTS, part(T0 + timedelta(hours=1)), 3)]) == [] and len(producer.sent) == 1


def test_the_live_predictive_maintainer_prices_repairs_as_the_pilot_does(tmp_path: Path) -> None:
    from contracts.plant import load_plant
    from services.maintain.worker import policy_factory
    from services.pilot.config import PilotConfig
    from services.pilot.line import simulator_line
    from services.pilot.pilot import cached_training_basis

    plant = load_plant(Path(__file__).resolve().parents[2] / "simulators" / "plants" / "demo.yaml")
    config = PilotConfig(training_days=1)
    policy = policy_factory("predictive", plant, config, tmp_path, say=lambda _: None)(T0)
    tools = cached_training_basis(plant, simulator_line, config, tmp_path)["repairs_observed"]["tool_wear"]["hours"]
    assert len(tools) >= config.min_repairs_for_estimate
    # the repair duration is the history's mean, not the built-in card's, exactly as in the pilot
    assert policy.rule.costs["tool_wear"].repair_hours == pytest.approx(round(sum(tools) / len(tools), 4))
    assert policy.rule.costs["tool_wear"].planned_hours == config.action_costs["tool_wear"].planned_hours
