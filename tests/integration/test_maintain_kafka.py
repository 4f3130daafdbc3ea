"""``linewatch maintain`` over a real broker: events and alerts published on their topics, the
worker (real ``Predictive`` policy and rule) in a thread, commands read back off
``linewatch.commands.v1``; a poison record on the alerts topic is skipped, not fatal."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaConsumer, TopicPartition

from contracts import AlertAction, AlertEvent, PartCompleted
from contracts.settings import KafkaSettings
from contracts.topics import ALERTS, COMMANDS, DEADLETTER, EVENTS
from runtime.admin import ensure_topics
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from services.maintain.worker import MaintainWorker
from services.pilot.decision import DEFAULT_ACTION_COSTS, ActionRule
from services.pilot.policies import Predictive

T0 = datetime(2026, 1, 5, 6, tzinfo=UTC)


def _read_all(kafka: KafkaSettings, topic: str, want: int, timeout_s: float = 60.0) -> list[bytes]:
    consumer = KafkaConsumer(**kafka.client_kwargs(), group_id=None, auto_offset_reset="earliest")
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    out: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < want and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            out += [r.value for r in records]
    time.sleep(2)  # anything more than wanted shows up too
    for records in consumer.poll(timeout_ms=500).values():
        out += [r.value for r in records]
    consumer.close()
    return out


@pytest.mark.integration
def test_alerts_on_the_topic_become_commands_on_the_topic(own_broker: KafkaSettings) -> None:
    ensure_topics(own_broker)
    cnc, robot = "line-1/cnc-01", "line-2/robot-01"

    def alert(machine: str, mode: str, p: float, minutes: int) -> AlertEvent:
        ts = T0 + timedelta(minutes=minutes)
        return AlertEvent(alert_id=f"{machine}|{mode}|{ts.isoformat()}", machine_id=machine, ts=ts,
                          action=AlertAction.RAISED, mode=mode, priority="high", probability=p,
                          model_version="test")

    passes, fails = alert(cnc, "tool_wear", 0.9, 5), alert(robot, "reducer_wear", 0.05, 5)
    with Producer(own_broker) as producer:
        for minutes in (0, 60):
            for machine, cycle in ((cnc, 60.0), (robot, 20.0)):
                ts = T0 + timedelta(minutes=minutes)
                producer.send(EVENTS, PartCompleted(event_id=f"{machine}|{minutes}", machine_id=machine, ts=ts,
                                                    part_id="p", cycle_time_s=cycle, ideal_cycle_time_s=cycle,
                                                    energy_kwh=0.1, good=True))
        producer.send(ALERTS, passes)
        producer.send(ALERTS, fails)
        producer.send_raw(ALERTS.name, b"{not json", key=cnc.encode())
    rule = ActionRule(costs=dict(DEFAULT_ACTION_COSTS), model_thresholds={"tool_wear": 0.3, "reducer_wear": 0.3})
    settings = LineWatchSettings(kafka=own_broker)
    worker = MaintainWorker(settings, lambda start: Predictive(cooldown_h=6.0, rule=rule), group_id="test-maintain")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        commands = [COMMANDS.decode(raw) for raw in _read_all(own_broker, COMMANDS.name, want=1)]
        letters = [DEADLETTER.decode(raw) for raw in _read_all(own_broker, DEADLETTER.name, want=1)]
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert [(c.machine_id, c.action, c.alert_id, c.reason) for c in commands] == [
        (cnc, "replace_tool", passes.alert_id, "predictive")]  # the robot's p=0.05 is below its threshold
    assert [(d.stage, d.source_topic) for d in letters] == [("maintain", ALERTS.name)]
    assert thread.is_alive() is False and worker.loop is not None and worker.loop.processed >= 6
