"""Settings of the scoring worker (env prefix ``LINEWATCH_``, nesting ``__``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from runtime.settings import LineWatchSettings

if TYPE_CHECKING:
    from pipelines.scoring.buffers import OrderRules
    from pipelines.scoring.sanity import TimeRules


class ScoringOptions(BaseModel):
    """``LINEWATCH_SCORING__*``."""

    model_config = ConfigDict(extra="forbid")

    group_id: str = "linewatch-scoring"
    score_every: int | None = Field(default=None, ge=1,
                                    description="Score every N-th sample per machine (default: the model's step).")
    max_records: int = Field(default=2000, ge=1, description="Records per poll: one model call per kind per poll.")
    poll_timeout_ms: int = Field(default=200, ge=10)
    reload_every_s: float = Field(default=30.0, gt=0, description="How often to look for a new champion.")
    top_k: int = Field(default=3, ge=1, le=10, description="Factors per score and alert.")
    explain_every: int = Field(default=10, ge=0, description=(
        "Explain (pred_contrib) every N-th window per machine (1 = all, 0 = none) besides every window "
        "that can raise, update or clear an alert."))
    event_replay: int = Field(default=20_000, ge=0, description="Event records per partition replayed on assignment.")
    raise_after: int = Field(default=2, ge=1, description="Consecutive scores over the threshold to raise.")
    clear_after: int = Field(default=3, ge=1, description="Consecutive scores under the clear level to clear.")
    clear_ratio: float = Field(default=0.6, gt=0, le=1, description="Clear level = threshold × clear_ratio.")
    restart_backoff_s: float = Field(default=2.0, ge=0, description="Pause before an internal restart.")
    max_future_s: float = Field(default=400 * 86_400.0, ge=0,
                                description="Dead-letter samples stamped more than this after their Kafka record "
                                            "time (0 = no limit). Simulators running ahead of the wall clock "
                                            "need room here; a real plant can use an hour.")
    max_past_s: float = Field(default=3650 * 86_400.0, ge=0,
                              description="Dead-letter samples stamped more than this before their record time "
                                          "(0 = no limit; imports of old history need room).")

    max_jump_s: float = Field(default=3600.0, ge=0, description=(
        "Dead-letter (TimeJumpAhead) a sample whose time moved this much further ahead of the machine's newest "
        "sample than its Kafka record time did (0 = no limit); the machine's timeline is not moved by it."))
    reanchor_after: int = Field(default=3, ge=2, description=(
        "Rejected samples (out of order or time jump) in a row with seq +1 and no jump between them that make "
        "them the machine's new timeline (the newer rows they contradict are dropped from the window)."))

    def order_rules(self) -> OrderRules:
        from pipelines.scoring.buffers import OrderRules

        return OrderRules(max_jump_s=self.max_jump_s, reanchor_after=self.reanchor_after)

    def time_rules(self) -> TimeRules:
        from pipelines.scoring.sanity import TimeRules

        return TimeRules(max_future_s=self.max_future_s, max_past_s=self.max_past_s)


class ScoringSettings(LineWatchSettings):
    """Everything ``linewatch score`` needs."""

    scoring: ScoringOptions = Field(default_factory=ScoringOptions)
    metrics_port: int = Field(default=9400, ge=0, le=65535, description="Prometheus /metrics port (0 = off).")
