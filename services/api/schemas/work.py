"""Work orders, labels, webhooks, baselines and KPI models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, model_validator

from contracts.messages import MACHINE_ID_PATTERN
from services.api.schemas.common import In, Name, Text, UtcDatetime, examples

MachineId = Annotated[str, Field(pattern=MACHINE_ID_PATTERN, examples=["line-1/cnc-01"])]
Outcome = Literal["confirmed_fault", "false_alarm", "no_fault_found"]


class WorkOrderCreate(In):
    machine_id: MachineId | None = Field(default=None, description="Required unless alert_id is given.")
    alert_id: str | None = Field(default=None, max_length=400)
    title: str = Field(min_length=1, max_length=300, examples=["Replace tool T07"])
    description: Text = ""
    component: str | None = Field(default=None, max_length=100, examples=["tool"])
    action: str | None = Field(default=None, max_length=100, examples=["replace_tool"])
    priority: Literal["low", "medium", "high"] = "medium"
    assigned_to: Name | None = None


class WorkOrderClose(In):
    outcome: Outcome = Field(examples=["confirmed_fault"])
    failure_mode: str | None = Field(default=None, max_length=100, pattern=r"^[a-z0-9_]+$", examples=["tool_wear"])
    cause: Text | None = Field(default=None, examples=["Flank wear beyond 0.3 mm"])
    corrective_action: Text | None = Field(default=None, examples=["Replaced tool T07"])
    cost: float | None = Field(default=None, ge=0, le=1e9, examples=[180.0])
    downtime_s: float | None = Field(default=None, ge=0, le=1e8, examples=[900.0])


class WorkOrderPublic(BaseModel):
    model_config = examples({"work_order_id": "wo-1a2b3c4d5e6f", "machine_id": "line-1/cnc-01", "line_id": "line-1",
                             "alert_id": None, "title": "Replace tool T07", "priority": "medium", "status": "open",
                             "created_by": "li.wei", "created_at": "2026-01-05T08:00:00Z"})
    work_order_id: str
    machine_id: str
    line_id: str
    alert_id: str | None = None
    title: str
    description: str = ""
    component: str | None = None
    action: str | None = None
    priority: str
    assigned_to: str | None = None
    status: str
    created_by: str
    created_at: UtcDatetime
    closed_at: UtcDatetime | None = None
    closed_by: str | None = None
    outcome: str | None = None
    failure_mode: str | None = None
    cause: str | None = None
    corrective_action: str | None = None
    cost: float | None = None
    downtime_s: float | None = None


class LabelPublic(BaseModel):
    model_config = examples({"machine_id": "line-1/cnc-01", "ts": "2026-01-05T08:00:00Z", "mode": "tool_wear",
                             "outcome": "confirmed_fault", "source": "work_order", "source_id": "wo-1a2b3c4d5e6f"})
    machine_id: str
    ts: UtcDatetime
    mode: str | None
    outcome: str | None
    source: str
    source_id: str
    cause: str | None = None
    action: str | None = None
    closed_at: UtcDatetime | None = None


WebhookEvent = Literal["alert.raised", "alert.escalated", "alert.resolved"]


class WebhookCreate(In):
    url: AnyHttpUrl = Field(examples=["https://cmms.example.com/hooks/linewatch"])
    events: list[WebhookEvent] = Field(default=["alert.raised", "alert.escalated", "alert.resolved"], min_length=1)


class WebhookPublic(BaseModel):
    model_config = examples({"webhook_id": "9f3e2a1b0c4d5e6f", "url": "https://cmms.example.com/hooks/linewatch",
                             "events": ["alert.raised"], "created_by": "admin", "created_at": "2026-01-05T08:00:00Z"})
    webhook_id: str
    url: str
    events: list[str]
    created_by: str
    created_at: UtcDatetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="HMAC-SHA256 key for X-LineWatch-Signature; shown once.")


class BaselineCreate(In):
    name: str = Field(min_length=1, max_length=200, examples=["Dec 2025 before LineWatch"])
    scope: Literal["plant", "line", "machine"] = "plant"
    scope_id: str | None = Field(default=None, max_length=200, examples=["line-1"])
    start: UtcDatetime = Field(examples=["2025-12-01T00:00:00Z"])
    end: UtcDatetime = Field(examples=["2026-01-01T00:00:00Z"])
    note: Text = ""

    @model_validator(mode="after")
    def _order(self) -> BaselineCreate:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.scope != "plant" and not self.scope_id:
            raise ValueError(f"scope {self.scope} needs scope_id")
        return self


class BaselinePublic(BaseModel):
    model_config = examples({"baseline_id": "bl-0a1b2c3d4e", "name": "Dec 2025 before LineWatch", "scope": "plant",
                             "scope_id": None, "start": "2025-12-01T00:00:00Z", "end": "2026-01-01T00:00:00Z",
                             "note": "", "created_by": "eng", "created_at": "2026-01-05T08:00:00Z"})
    baseline_id: str
    name: str
    scope: str
    scope_id: str | None
    start: UtcDatetime
    end: UtcDatetime
    note: str
    created_by: str
    created_at: UtcDatetime


class KpiReport(BaseModel):
    model_config = examples({"scope": "line", "id": "line-1", "kpis": {"oee": 0.71, "defect_rate": 0.021},
                             "baseline": {"baseline_id": "bl-0a1b2c3d4e", "name": "Dec 2025"},
                             "improvements": [{"name": "defect_rate_reduction",
                                               "formula": "(DR_base − DR_now) / DR_base",
                                               "inputs": {"DR_base": 0.03, "DR_now": 0.021}, "value": 0.3,
                                               "baseline": "Dec 2025", "target": 0.1, "met": True}]})
    scope: str
    id: str | None
    kpis: dict[str, Any]
    baseline: BaselinePublic | None = None
    baseline_kpis: dict[str, Any] | None = None
    improvements: list[dict[str, Any]] = []
    definitions: str = "docs/kpis.md"
