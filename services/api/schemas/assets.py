"""Plant, machine, score, telemetry and event models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.api.schemas.common import UtcDatetime, examples


class ComponentPublic(BaseModel):
    id: str
    name: str
    name_zh: str
    failure_modes: list[str]
    health: float | None = None


class MachineSummary(BaseModel):
    id: str
    machine_id: str
    kind: str
    name: str
    name_zh: str
    health: float | None = Field(description="Latest health 0–100; null before the first score.")
    band: str | None = Field(description="good (>=80), watch (50–80), act (<50)")
    state: str | None
    open_alerts: int
    last_score_at: UtcDatetime | None
    components: list[ComponentPublic]


class LinePublic(BaseModel):
    id: str
    name: str
    name_zh: str
    machines: list[MachineSummary]


class PlantPublic(BaseModel):
    model_config = examples({"id": "demo", "name": "Demo plant", "name_zh": "演示工厂", "lines": [
        {"id": "line-1", "name": "Line 1", "name_zh": "一号线", "machines": [
            {"id": "line-1/cnc-01", "machine_id": "line-1/cnc-01", "kind": "cnc", "name": "CNC 01", "name_zh": "",
             "health": 72.5, "band": "watch", "state": "running", "open_alerts": 1,
             "last_score_at": "2026-01-05T08:00:00Z", "components": []}]}]})
    id: str
    name: str
    name_zh: str
    lines: list[LinePublic]


class SensorPublic(BaseModel):
    name: str
    unit: str
    label_en: str
    label_zh: str
    normal_low: float
    normal_high: float
    value: float | None = Field(description="Last value in the newest telemetry minute.")
    mean_1m: float | None
    ts: UtcDatetime | None
    in_normal_range: bool | None
    fault: Literal["stuck", "missing", "out_of_range", "noisy", "spike"] | None = Field(
        default=None, description="Sensor fault the scorer found (an active sensor_fault alert): the value is "
                                  "not used by the models; check the sensor before acting on equipment alerts.")


class Explanation(BaseModel):
    factors: list[dict[str, Any]]
    sentence_en: str
    sentence_zh: str


class MachineDetail(BaseModel):
    model_config = examples({"machine_id": "line-1/cnc-01", "kind": "cnc", "state": "running", "health": 72.5,
                             "band": "watch", "failure_probability": {"tool_wear": 0.21}, "rul_hours": 31.0,
                             "rul_low_hours": 18.0, "rul_high_hours": 44.0, "rul_mode": "tool_wear",
                             "defect_risk": 0.08, "open_alerts": 1})
    machine_id: str
    line_id: str
    kind: str
    name: str
    name_zh: str
    vendor: str
    model: str
    state: str | None
    health: float | None
    band: str | None
    component_health: dict[str, float]
    horizon_hours: float | None
    failure_probability: dict[str, float]
    no_skill_modes: list[str] = Field(
        default_factory=list, description="Modes whose model showed no validated skill: no probability, not in "
                                          "health or alerts (docs/scoring.md).")
    rul_hours: float | None
    rul_low_hours: float | None
    rul_high_hours: float | None
    rul_mode: str | None
    defect_risk: float | None
    anomaly_score: float | None
    model_version: str | None
    scored_at: UtcDatetime | None
    explanation: Explanation
    sensors: list[SensorPublic]
    components: list[ComponentPublic]
    open_alerts: int


class ScorePoint(BaseModel):
    ts: UtcDatetime
    n: int
    health: float
    health_min: float
    max_failure_probability: float
    rul_hours: float | None
    defect_risk: float | None
    model_version: str


class ScoreHistory(BaseModel):
    model_config = examples({"machine_id": "line-1/cnc-01", "from": "2026-01-04T08:00:00Z",
                             "to": "2026-01-05T08:00:00Z", "raw_points": 1440, "points": [
                                 {"ts": "2026-01-04T08:05:00Z", "n": 5, "health": 91.2, "health_min": 90.1,
                                  "max_failure_probability": 0.04, "rul_hours": 120.0, "defect_risk": 0.01,
                                  "model_version": "m-1"}]})
    machine_id: str
    start: UtcDatetime = Field(alias="from")
    end: UtcDatetime = Field(alias="to")
    raw_points: int
    points: list[ScorePoint]


class TelemetryPoint(BaseModel):
    """One bucket of a signal's per-minute aggregates."""

    ts: UtcDatetime = Field(description="The bucket's first minute.")
    mean: float
    min: float
    max: float
    n: int = Field(description="Samples in the bucket.")


class TelemetryHistory(BaseModel):
    model_config = examples({"machine_id": "line-1/cnc-01", "from": "2026-01-05T07:00:00Z",
                             "to": "2026-01-05T08:00:00Z", "signals": {"spindle_power_kw": [
                                 {"ts": "2026-01-05T07:00:00Z", "mean": 7.4, "min": 6.9, "max": 8.1, "n": 60}]}})
    machine_id: str
    start: UtcDatetime = Field(alias="from")
    end: UtcDatetime = Field(alias="to")
    signals: dict[str, list[TelemetryPoint]]


class EventPublic(BaseModel):
    model_config = examples({"event_id": "line-1/cnc-01:maint:7", "machine_id": "line-1/cnc-01",
                             "ts": "2026-01-05T08:00:00Z", "kind": "maintenance_done", "payload": {}})
    event_id: str
    machine_id: str
    ts: UtcDatetime
    kind: str
    payload: dict[str, Any]
