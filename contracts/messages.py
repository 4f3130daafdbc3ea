"""Frozen, versioned message models: one per Kafka topic (DESIGN.md §4).

Every model rejects unknown fields, carries ``schema_version`` and uses timezone-aware
UTC datetimes. Signal names carry their unit (``spindle_vibration_rms_mm_s``). Ids that
downstream stages upsert on are deterministic so a replay never duplicates a row.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

MACHINE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}/[a-z0-9][a-z0-9_.-]{0,62}$"  # "<line>/<machine>"
SIGNAL_NAME_PATTERN = r"^[a-z][a-z0-9_]{1,79}$"

MachineId = Annotated[str, Field(pattern=MACHINE_ID_PATTERN, examples=["line-1/cnc-03"])]
UtcDatetime = AwareDatetime

#: Telemetry limits at the contract edge (docs: contracts/README.md "Telemetry rules").
MAX_SIGNALS = 1000  # signals (and quality entries) per sample
MAX_TEXT = 200  # program, tool_id, part_id, source
MAX_SEQ = 2**63 - 1  # fits a signed 64-bit column
TS_MIN = datetime(2000, 1, 1, tzinfo=UTC)  # anything earlier is a clock fault (e.g. ts: -1 = 1969)
TS_MAX = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive



class Message(BaseModel):
    """Base of every topic message: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="null")

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return value


class MachineState(StrEnum):
    """Production state of a machine (ISO 22400 time model, simplified)."""

    RUNNING = "running"
    IDLE = "idle"
    SETUP = "setup"
    DOWN = "down"  # unplanned: failure, waiting for repair
    MAINTENANCE = "maintenance"  # planned maintenance action in progress
    OFFLINE = "offline"  # no data: connector lost the source


#: Alert priority (ISA-18.2), from the failure mode's consequence and time to respond.
Priority = Literal["low", "medium", "high"]

#: Machine states in which new alerts are suppressed by design (ISA-18.2): setup and planned maintenance.
SUPPRESSING_MACHINE_STATES: frozenset[str] = frozenset({MachineState.SETUP, MachineState.MAINTENANCE})


class Quality(StrEnum):
    """Per-signal quality, mapped from OPC UA status codes / Sparkplug quality."""

    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


class TelemetrySample(Message):
    """One sample of one machine's signals (topic ``linewatch.telemetry.v1``).

    ``signals`` maps a unit-suffixed name to a value; ``None`` means the sensor gave no
    value (dropout). ``quality`` lists only signals whose quality is not good.
    """

    schema_version: Literal[1] = 1
    machine_id: MachineId
    ts: UtcDatetime
    seq: int = Field(ge=0, le=MAX_SEQ, description="Per-machine sequence number, increasing by one.")
    signals: dict[Annotated[str, Field(pattern=SIGNAL_NAME_PATTERN)], float | None] = Field(max_length=MAX_SIGNALS)
    quality: dict[str, Quality] = Field(default_factory=dict, max_length=MAX_SIGNALS)
    state: MachineState = MachineState.RUNNING
    program: str | None = Field(default=None, max_length=MAX_TEXT)
    tool_id: str | None = Field(default=None, max_length=MAX_TEXT)
    part_id: str | None = Field(default=None, max_length=MAX_TEXT)
    source: str = Field(default="sim", max_length=MAX_TEXT,
                        description="Producer: sim, opcua, sparkplug, modbus, import.")

    @field_validator("signals", mode="before")
    @classmethod
    def _numbers(cls, signals: object) -> object:
        """Signal values are JSON numbers or null: a boolean or a string is not a number
        (one check per sample, not a validator call per value)."""
        if isinstance(signals, dict):
            for name, value in signals.items():
                if isinstance(value, bool) or type(value).__name__ == "bool_":
                    raise ValueError(f"signal {name!r} is a boolean, not a number: map it to 0/1 in the "
                                     "connector mapping or send it as an event")
                if isinstance(value, (str, bytes)):
                    raise ValueError(f"signal {name!r} is a string, not a number")
        return signals

    @field_validator("signals")
    @classmethod
    def _finite(cls, signals: dict[str, float | None]) -> dict[str, float | None]:
        for name, value in signals.items():
            if value is not None and not math.isfinite(value):
                raise ValueError(f"signal {name!r} is not finite: {value!r}")
        return signals

    @field_validator("ts", mode="after")
    @classmethod
    def _plausible_time(cls, ts: datetime) -> datetime:
        if not TS_MIN <= ts < TS_MAX:
            raise ValueError(f"ts {ts.isoformat()} is outside {TS_MIN.year}..{TS_MAX.year - 1}: "
                             "a clock fault, not a sample time")
        return ts


class _EventBase(Message):
    schema_version: Literal[1] = 1
    event_id: str = Field(min_length=1, max_length=200, description="Deterministic: replays upsert.")
    machine_id: MachineId
    ts: UtcDatetime


class PartCompleted(_EventBase):
    """A part left the machine: cycle time, energy and the inspection result."""

    kind: Literal["part_completed"] = "part_completed"
    part_id: str
    cycle_time_s: float = Field(gt=0)
    ideal_cycle_time_s: float = Field(gt=0)
    energy_kwh: float = Field(ge=0)
    good: bool
    defect_type: str | None = None
    measurements: dict[str, float] = Field(default_factory=dict)


class FailureOccurred(_EventBase):
    """A component failed; the machine stops until repaired."""

    kind: Literal["failure"] = "failure"
    mode: str = Field(description="Failure mode, e.g. tool_wear, spindle_bearing, reducer_wear.")
    component: str
    description: str = ""


class MaintenanceDone(_EventBase):
    """A maintenance action finished (planned, or the repair after a failure)."""

    kind: Literal["maintenance_done"] = "maintenance_done"
    action: str
    component: str
    planned: bool
    duration_s: float = Field(ge=0)
    reason: Literal["corrective", "preventive", "predictive", "manual"] = "manual"
    command_id: str | None = None
    parts_cost: float = Field(default=0.0, ge=0)


class StateChanged(_EventBase):
    """The machine changed production state."""

    kind: Literal["state_changed"] = "state_changed"
    from_state: MachineState
    to_state: MachineState
    reason: str = ""


class PlcAlarm(_EventBase):
    """An alarm edge from the machine's own controller: ``active`` true when it came on, false when it went off."""

    kind: Literal["plc_alarm"] = "plc_alarm"
    code: str
    text: str = Field(description="English text (from the connector mapping or the PLC).")
    text_zh: str = Field(default="", description="zh-CN text, if the mapping gives one.")
    severity: Literal["low", "medium", "high"] = "medium"
    active: bool = Field(default=True, description="True: the alarm came on (rising edge); false: it went off.")


MachineEvent = Annotated[
    PartCompleted | FailureOccurred | MaintenanceDone | StateChanged | PlcAlarm,
    Field(discriminator="kind"),
]


class Factor(Message):
    """One contributor to a score: its SHAP contribution and its value against normal."""

    feature: str
    contribution: float
    value: float | None
    normal_low: float | None = None
    normal_high: float | None = None


class HealthScore(Message):
    """Model output for one machine at one window end (topic ``linewatch.scores.v1``)."""

    schema_version: Literal[1] = 1
    score_id: str = Field(description="machine_id|window_end|model_version: the upsert key.")
    machine_id: MachineId
    ts: UtcDatetime = Field(description="Window end: the last sample time the score used.")
    model_version: str
    health: float = Field(ge=0, le=100)
    component_health: dict[str, float] = Field(default_factory=dict)
    horizon_hours: float = Field(gt=0, description="Horizon of every mode not in mode_horizon_hours.")
    mode_horizon_hours: dict[str, float] = Field(
        default_factory=dict, description="Per-mode horizon of failure_probability (hours); missing: horizon_hours.")
    mode_lead_hours: dict[str, float] = Field(
        default_factory=dict,
        description="Per-mode planning lead time (hours the plant needs to plan the action) that health weighs "
                    "urgency against; missing: that mode's health is 100·(1 − p) (docs/scoring.md).")
    failure_probability: dict[str, float] = Field(
        default_factory=dict, description="P(failure within the mode's horizon) of every mode with validated skill.")
    no_skill_modes: list[str] = Field(
        default_factory=list,
        description="Modes the model knows but whose model showed no validated skill (its validation PR-AUC did not "
                    "beat the positive rate, docs/scoring.md): left out of failure_probability, health and alerts.")
    rul_hours: float | None = Field(default=None, ge=0)
    rul_low_hours: float | None = Field(default=None, ge=0)
    rul_high_hours: float | None = Field(default=None, ge=0)
    rul_mode: str | None = None
    defect_risk: float | None = Field(default=None, ge=0, le=1)
    anomaly_score: float | None = None
    top_factors: list[Factor] = Field(default_factory=list)


class AlertAction(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    CLEARED = "cleared"


class AlertEvent(Message):
    """An alert life-cycle event from the scorer (topic ``linewatch.alerts.v1``).

    ``alert_id`` is derived from machine, mode and the window that raised it, so a replay
    yields the same id. Operator actions (acknowledge, shelve…) live in the API's store.
    """

    schema_version: Literal[1] = 1
    alert_id: str
    machine_id: MachineId
    ts: UtcDatetime
    action: AlertAction
    mode: str
    priority: Priority
    probability: float = Field(ge=0, le=1)
    rul_hours: float | None = None
    model_version: str
    message_en: str = ""
    message_zh: str = ""
    recommended_action: str | None = None
    top_factors: list[Factor] = Field(default_factory=list)


class MaintenanceCommand(Message):
    """A maintenance action sent back to the line (topic ``linewatch.commands.v1``)."""

    schema_version: Literal[1] = 1
    command_id: str
    machine_id: MachineId
    ts: UtcDatetime
    action: str = Field(examples=["replace_tool", "service_spindle_bearing", "replace_reducer"])
    component: str
    reason: Literal["preventive", "predictive", "manual"] = "manual"
    alert_id: str | None = None
    requested_by: str = "linewatch"


class DeadLetter(Message):
    """A record a stage could not process, kept whole with the reason (``linewatch.deadletter.v1``)."""

    schema_version: Literal[1] = 1
    ts: UtcDatetime
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    key: str | None = Field(description="Original key, decoded as UTF-8 with replacement.")
    value_b64: str = Field(description="Original value bytes, base64 (only a prefix when truncated).")
    reason: str
    error_type: str
    value_bytes: int | None = Field(default=None, ge=0, description="Size of the original value in bytes.")
    value_sha256: str | None = Field(default=None, description="SHA-256 (hex) of the original value bytes.")
    truncated: bool = Field(default=False, description="value_b64 holds only a prefix: the record was too "
                                                       "large to dead-letter whole; replay it from the source.")
    attempts: int = Field(default=0, ge=0, description="Times the stage failed on this record before giving up.")
