"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/versions`` create them;
``tests/unit/store`` checks the migrated schema matches this metadata."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from store.coltypes import Json, UtcDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

ID = String(200)

# --- written by the pipelines -------------------------------------------------------------

scores = Table(
    "scores", metadata,
    Column("machine_id", ID, primary_key=True),
    Column("ts", UtcDateTime, primary_key=True),
    Column("model_version", String(100), primary_key=True),
    Column("score_id", String(400), nullable=False),
    Column("line_id", String(100), nullable=False),
    Column("health", Float, nullable=False),
    Column("max_failure_probability", Float, nullable=False),
    Column("rul_hours", Float), Column("rul_low_hours", Float), Column("rul_high_hours", Float),
    Column("rul_mode", String(100)), Column("defect_risk", Float), Column("anomaly_score", Float),
    Column("payload", Json, nullable=False, comment="the full HealthScore as JSON"),
    Column("ingested_at", UtcDateTime, nullable=False),
    Index("ix_scores_line_ts", "line_id", "ts"),
    Index("ix_scores_ingested_at", "ingested_at"),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", String(400), primary_key=True),
    Column("machine_id", ID, nullable=False), Column("line_id", String(100), nullable=False),
    Column("mode", String(100), nullable=False), Column("priority", String(10), nullable=False),
    Column("probability", Float, nullable=False), Column("rul_hours", Float),
    Column("model_version", String(100), nullable=False),
    Column("message_en", Text, nullable=False, default=""), Column("message_zh", Text, nullable=False, default=""),
    Column("recommended_action", String(200)), Column("top_factors", Json, nullable=False),
    # scorer side: the process condition
    Column("raised_at", UtcDateTime, nullable=False), Column("scorer_ts", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime), Column("active", Boolean, nullable=False),
    # operator side: never touched by the scorer's upserts
    Column("state", String(30), nullable=False, comment="ISA-18.2 state, see lifecycle.py"),
    Column("acknowledged_at", UtcDateTime), Column("acknowledged_by", String(100)),
    Column("assigned_to", String(100)),
    Column("shelved_until", UtcDateTime), Column("shelved_by", String(100)), Column("shelve_reason", Text),
    Column("suppressed", Boolean, nullable=False, default=False),
    Column("out_of_service", Boolean, nullable=False, default=False),
    Column("escalation_level", Integer, nullable=False, default=0), Column("escalated_at", UtcDateTime),
    Column("resolved_at", UtcDateTime), Column("resolved_by", String(100)),
    Column("outcome", String(30)), Column("failure_mode", String(100)),
    Column("cause", Text), Column("corrective_action", Text),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("ix_alerts_machine_raised", "machine_id", "raised_at"),
    Index("ix_alerts_raised_at", "raised_at", "alert_id"),
    Index("ix_alerts_state", "state"),
    Index("ix_alerts_changed_at", "changed_at"),
)

machine_events = Table(
    "machine_events", metadata,
    Column("event_id", ID, primary_key=True),
    Column("machine_id", ID, nullable=False), Column("line_id", String(100), nullable=False),
    Column("ts", UtcDateTime, nullable=False), Column("kind", String(30), nullable=False),
    # part_completed
    Column("part_good", Boolean), Column("energy_kwh", Float), Column("cycle_time_s", Float),
    Column("ideal_cycle_time_s", Float), Column("defect_type", String(100)),
    # failure / maintenance_done
    Column("failure_mode", String(100)), Column("component", String(100)), Column("action", String(100)),
    Column("planned", Boolean), Column("duration_s", Float), Column("reason", String(200)),
    Column("parts_cost", Float), Column("command_id", String(200)),
    # state_changed / plc_alarm
    Column("from_state", String(20)), Column("to_state", String(20)),
    Column("code", String(100)), Column("severity", String(10)),
    Column("text_en", String(500)), Column("text_zh", String(500)),
    Column("active", Boolean, comment="plc_alarm: true = the alarm came on, false = it went off"),
    Column("payload", Json, nullable=False, comment="the full MachineEvent as JSON"),
    Index("ix_machine_events_machine_ts", "machine_id", "ts"),
    Index("ix_machine_events_kind_ts", "kind", "ts"),
)

telemetry_minutes = Table(
    "telemetry_minutes", metadata,
    Column("machine_id", ID, primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("line_id", String(100), nullable=False),
    Column("n_samples", Integer, nullable=False),
    Column("last_ts", UtcDateTime, nullable=False, comment="newest sample merged: replays stop here"),
    Column("state", String(20), nullable=False),
    Column("signals", Json, nullable=False, comment="{signal: [n, sum, min, max, last]}"),
)

# --- written by the API ---------------------------------------------------------------------

users = Table(
    "users", metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", String(300), nullable=False),
    Column("role", String(20), nullable=False),
    Column("display_name", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lines", Json, comment="line ids the user may see; null or [] = all"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(128), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("scopes", Json, nullable=False, comment="line ids the key may see; [] = all"),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime), Column("revoked_at", UtcDateTime), Column("last_used_at", UtcDateTime),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("username", String(100), ForeignKey("users.username"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, comment="last request (idle timeout); null = created_at"),
)

login_throttle = Table(
    "login_throttle", metadata,
    Column("subject", String(300), primary_key=True, comment="'user:<name>' or 'addr:<client address>'"),
    Column("failures", Integer, nullable=False),
    Column("first_failed_at", UtcDateTime, nullable=False),
    Column("last_failed_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target_type", String(40), nullable=False),
    Column("target_id", String(400), nullable=False),
    Column("detail", Json, nullable=False),
    Index("ix_audit_log_target", "target_type", "target_id"),
    Index("ix_audit_log_ts", "ts"),
)

alert_comments = Table(
    "alert_comments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(400), ForeignKey("alerts.alert_id"), nullable=False, index=True),
    Column("ts", UtcDateTime, nullable=False),
    Column("author", String(100), nullable=False),
    Column("text", Text, nullable=False),
)

webhooks = Table(
    "webhooks", metadata,
    Column("webhook_id", String(40), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False, comment="HMAC-SHA256 key; shown once at creation"),
    Column("events", Json, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("webhook_id", String(40), ForeignKey("webhooks.webhook_id"), nullable=False, index=True),
    Column("event", String(40), nullable=False),
    Column("payload", Json, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(20), nullable=False, comment="pending, delivered, failed"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
)

work_orders = Table(
    "work_orders", metadata,
    Column("work_order_id", String(40), primary_key=True),
    Column("machine_id", ID, nullable=False, index=True), Column("line_id", String(100), nullable=False),
    Column("alert_id", String(400)), Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("component", String(100)), Column("action", String(100)),
    Column("priority", String(10), nullable=False), Column("assigned_to", String(100)),
    Column("status", String(20), nullable=False, comment="open, closed"),
    Column("created_by", String(100), nullable=False), Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime), Column("closed_by", String(100)),
    Column("outcome", String(30)), Column("failure_mode", String(100)),
    Column("cause", Text), Column("corrective_action", Text), Column("cost", Float),
    Column("downtime_s", Float),
)

baselines = Table(
    "baselines", metadata,
    Column("baseline_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scope", String(10), nullable=False), Column("scope_id", String(200)),
    Column("start", UtcDateTime, nullable=False), Column("end", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_by", String(100), nullable=False), Column("created_at", UtcDateTime, nullable=False),
)

pilot_reports = Table(
    "pilot_reports", metadata,
    Column("report_id", String(100), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("report", Json, nullable=False),
)
