"""The simulator builds its messages without pydantic's validation (``machine._built``): every
sample and event of a run must equal, field for field and type for type, what validation builds."""

from __future__ import annotations

from datetime import timedelta

from contracts import MaintenanceCommand
from contracts.plant import load_plant
from runtime.settings import LineWatchSettings
from simulators.physics.line import DEFAULT_START, Line

PLANT = load_plant(LineWatchSettings().plant_file)


def _types(value: object) -> object:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    return type(value)


def test_every_message_of_a_run_is_what_validation_builds() -> None:
    line = Line(PLANT, seed=11, start=DEFAULT_START)
    line.apply(MaintenanceCommand(command_id="c1", machine_id="line-2/robot-01", ts=DEFAULT_START,
                                  action="repair_gripper", component="gripper", reason="predictive"))
    samples, events = line.step_until(DEFAULT_START + timedelta(hours=8))
    kinds = {e.kind for e in events}
    assert {"part_completed", "state_changed", "maintenance_done"} <= kinds
    assert any(s.quality for s in samples), "a sensor dropout is in the run"
    for msg in [*samples, *events]:
        again = type(msg)(**{k: getattr(msg, k) for k in msg.model_fields_set})  # what the simulator passed
        assert again == msg
        assert again.model_fields_set == msg.model_fields_set
        assert {k: _types(v) for k, v in vars(again).items()} == {k: _types(v) for k, v in vars(msg).items()}
        assert again.model_dump_json() == msg.model_dump_json()
