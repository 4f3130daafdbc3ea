"""Alert models: the alert, its rationale, actions, comments and audit entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.api.schemas.common import In, Name, Page, Text, UtcDatetime, examples

ALERT_EXAMPLE = {
    "alert_id": "line-1/cnc-01|tool_wear|2026-01-05T08:00:00+00:00", "machine_id": "line-1/cnc-01",
    "line_id": "line-1", "mode": "tool_wear", "priority": "medium", "probability": 0.71, "rul_hours": 12.0,
    "state": "unacknowledged", "active": True, "raised_at": "2026-01-05T08:00:00Z",
    "message_en": "Tool wear: failure probability within 24 h is 71%",
    "message_zh": "刀具磨损：未来 24 小时内故障概率 71%",
    "recommended_action": "replace_tool", "escalation_level": 0}


class Rationale(BaseModel):
    """ISA-18.2 alarm rationalisation of the alert's type (its failure mode)."""

    cause_en: str
    cause_zh: str
    consequence_en: str
    consequence_zh: str
    corrective_action_en: str
    corrective_action_zh: str
    time_to_respond_minutes: int
    recommended_action: str | None


class AlertPublic(BaseModel):
    model_config = examples(ALERT_EXAMPLE)
    alert_id: str
    machine_id: str
    line_id: str
    mode: str
    priority: Literal["low", "medium", "high"]
    probability: float
    rul_hours: float | None = None
    model_version: str
    state: str
    active: bool
    message_en: str
    message_zh: str
    recommended_action: str | None = None
    top_factors: list[dict[str, Any]] = []
    raised_at: UtcDatetime
    cleared_at: UtcDatetime | None = None
    acknowledged_at: UtcDatetime | None = None
    acknowledged_by: str | None = None
    assigned_to: str | None = None
    shelved_until: UtcDatetime | None = None
    shelved_by: str | None = None
    shelve_reason: str | None = None
    suppressed: bool
    out_of_service: bool
    escalation_level: int
    escalated_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    resolved_by: str | None = None
    outcome: str | None = None
    failure_mode: str | None = None
    cause: str | None = None
    corrective_action: str | None = None
    changed_at: UtcDatetime


class AlertPage(Page):
    model_config = examples({"items": [ALERT_EXAMPLE], "total": 1, "limit": 100, "offset": 0,
                             "counts": {"unacknowledged": 1, "shelved": 0, "suppressed": 0}})
    items: list[AlertPublic]
    counts: dict[str, int] = Field(description="Alerts per state for the same filters (state filter aside).")


class CommentCreate(In):
    text: str = Field(min_length=1, max_length=2000, examples=["Tool changed at 10:20, wear 0.31 mm"])


class CommentPublic(BaseModel):
    model_config = examples({"id": 1, "alert_id": ALERT_EXAMPLE["alert_id"], "ts": "2026-01-05T08:30:00Z",
                             "author": "li.wei", "text": "Tool changed at 10:20"})
    id: int
    alert_id: str
    ts: UtcDatetime
    author: str
    text: str


class AuditPublic(BaseModel):
    model_config = examples({"ts": "2026-01-05T08:10:00Z", "actor": "li.wei", "action": "alert.acknowledge",
                             "target_type": "alert", "target_id": ALERT_EXAMPLE["alert_id"],
                             "detail": {"from_state": "unacknowledged", "to_state": "acknowledged"}})
    ts: UtcDatetime
    actor: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]


class AlertDetail(AlertPublic):
    rationale: Rationale
    comments: list[CommentPublic]
    audit: list[AuditPublic]
    work_orders: list[dict[str, Any]]


class AssignCreate(In):
    assignee: Name = Field(examples=["zhang.min"])


class ShelveCreate(In):
    reason: str = Field(min_length=3, max_length=500, examples=["Sensor cable being replaced"])
    until: UtcDatetime = Field(examples=["2026-01-05T12:00:00Z"])


class ReasonCreate(In):
    reason: str = Field(default="", max_length=500, examples=["Nuisance during trial, see MOC-12"])


class ResolveCreate(In):
    outcome: Literal["confirmed_fault", "false_alarm", "no_fault_found"] = Field(examples=["confirmed_fault"])
    failure_mode: str | None = Field(default=None, max_length=100, pattern=r"^[a-z0-9_]+$", examples=["tool_wear"])
    cause: Text | None = Field(default=None, examples=["Flank wear 0.32 mm"])
    action: Text | None = Field(default=None, examples=["replace_tool"])


class AlertKpisPublic(BaseModel):
    model_config = examples({"from": "2025-12-06T00:00:00Z", "to": "2026-01-05T00:00:00Z", "alerts": 120,
                             "alerts_per_hour": 0.17, "flood_window_share": 0.0, "chattering_alerts": 0,
                             "stale_alerts": 1, "top10_share": 0.6,
                             "priority_split": {"low": 0.8, "medium": 0.15, "high": 0.05}})
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    alerts: int
    alerts_per_hour: float
    flood_window_share: float
    flood_windows: int
    windows: int
    chattering_alerts: int
    stale_alerts: int
    top10_share: float | None
    top10: list[dict[str, Any]]
    priority_split: dict[str, float | None]
    targets: dict[str, Any]
