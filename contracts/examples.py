"""One valid example message per topic: for docs, OpenAPI examples and contract tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts.messages import (
    AlertAction,
    AlertEvent,
    DeadLetter,
    Factor,
    HealthScore,
    MachineState,
    MaintenanceCommand,
    PartCompleted,
    TelemetrySample,
)
from contracts.topics import ALERTS, COMMANDS, DEADLETTER, EVENTS, SCORES, TELEMETRY, Topic

T0 = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
MACHINE = "line-1/cnc-01"


def telemetry(seq: int = 0, machine_id: str = MACHINE, **signals: float | None) -> TelemetrySample:
    values: dict[str, float | None] = {
        "spindle_speed_rpm": 8000.0, "spindle_power_kw": 7.5, "spindle_vibration_rms_mm_s": 1.1,
        "spindle_bearing_temp_c": 38.0, "coolant_pressure_bar": 9.8,
    }
    values.update(signals)
    return TelemetrySample(machine_id=machine_id, ts=T0.replace(second=seq % 60, minute=(seq // 60) % 60),
                           seq=seq, signals=values, state=MachineState.RUNNING, tool_id="T07", program="O1001")


def examples() -> dict[str, Any]:
    factor = Factor(feature="spindle_vibration_rms_mm_s__mean_30m", contribution=0.42, value=3.9,
                    normal_low=0.8, normal_high=1.6)
    return {
        TELEMETRY.name: telemetry(),
        EVENTS.name: PartCompleted(event_id=f"{MACHINE}:part:1", machine_id=MACHINE, ts=T0, part_id="P-000001",
                                   cycle_time_s=92.5, ideal_cycle_time_s=90.0, energy_kwh=0.31, good=True,
                                   measurements={"surface_roughness_ra_um": 1.2}),
        SCORES.name: HealthScore(score_id=f"{MACHINE}|{T0.isoformat()}|m-1", machine_id=MACHINE, ts=T0,
                                 model_version="m-1", health=72.5, horizon_hours=24.0,
                                 mode_horizon_hours={"tool_wear": 4.0, "spindle_bearing": 96.0},
                                 mode_lead_hours={"tool_wear": 0.5, "spindle_bearing": 48.0},
                                 failure_probability={"tool_wear": 0.21, "spindle_bearing": 0.02},
                                 rul_hours=31.0, rul_low_hours=18.0, rul_high_hours=44.0, rul_mode="tool_wear",
                                 defect_risk=0.08, anomaly_score=0.3, top_factors=[factor]),
        ALERTS.name: AlertEvent(alert_id=f"{MACHINE}|tool_wear|{T0.isoformat()}", machine_id=MACHINE, ts=T0,
                                action=AlertAction.RAISED, mode="tool_wear", priority="medium", probability=0.71,
                                rul_hours=12.0, model_version="m-1", message_en="Tool wear likely within 24 h",
                                message_zh="未来 24 小时内刀具磨损故障概率高", recommended_action="replace_tool",
                                top_factors=[factor]),
        COMMANDS.name: MaintenanceCommand(command_id="cmd-1", machine_id=MACHINE, ts=T0, action="replace_tool",
                                          component="tool", reason="predictive", alert_id="a-1"),
        DEADLETTER.name: DeadLetter(ts=T0, stage="scoring", source_topic=TELEMETRY.name, source_partition=0,
                                    source_offset=42, key=MACHINE, value_b64="e30=", reason="bad json",
                                    error_type="ContractError"),
    }


def example(topic: Topic[Any]) -> Any:
    return examples()[topic.name]
