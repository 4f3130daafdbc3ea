"""initial schema: pipeline and API tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import store.coltypes

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('alert_id', sa.String(length=400), nullable=False),
    sa.Column('machine_id', sa.String(length=200), nullable=False),
    sa.Column('line_id', sa.String(length=100), nullable=False),
    sa.Column('mode', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('rul_hours', sa.Float(), nullable=True),
    sa.Column('model_version', sa.String(length=100), nullable=False),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('message_zh', sa.Text(), nullable=False),
    sa.Column('recommended_action', sa.String(length=200), nullable=True),
    sa.Column('top_factors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('raised_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('scorer_ts', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=30), nullable=False, comment='ISA-18.2 state, see lifecycle.py'),
    sa.Column('acknowledged_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
    sa.Column('assigned_to', sa.String(length=100), nullable=True),
    sa.Column('shelved_until', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('shelved_by', sa.String(length=100), nullable=True),
    sa.Column('shelve_reason', sa.Text(), nullable=True),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.Column('out_of_service', sa.Boolean(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('failure_mode', sa.String(length=100), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('corrective_action', sa.Text(), nullable=True),
    sa.Column('changed_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_changed_at', ['changed_at'], unique=False)
        batch_op.create_index('ix_alerts_machine_raised', ['machine_id', 'raised_at'], unique=False)
        batch_op.create_index('ix_alerts_state', ['state'], unique=False)

    op.create_table('api_keys',
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('secret_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='line ids the key may see; [] = all'),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_keys_secret_hash'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ts', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=400), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_target', ['target_type', 'target_id'], unique=False)
        batch_op.create_index('ix_audit_log_ts', ['ts'], unique=False)

    op.create_table('baselines',
    sa.Column('baseline_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('scope_id', sa.String(length=200), nullable=True),
    sa.Column('start', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('end', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('baseline_id', name=op.f('pk_baselines'))
    )
    op.create_table('machine_events',
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('machine_id', sa.String(length=200), nullable=False),
    sa.Column('line_id', sa.String(length=100), nullable=False),
    sa.Column('ts', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('part_good', sa.Boolean(), nullable=True),
    sa.Column('energy_kwh', sa.Float(), nullable=True),
    sa.Column('cycle_time_s', sa.Float(), nullable=True),
    sa.Column('ideal_cycle_time_s', sa.Float(), nullable=True),
    sa.Column('defect_type', sa.String(length=100), nullable=True),
    sa.Column('failure_mode', sa.String(length=100), nullable=True),
    sa.Column('component', sa.String(length=100), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=True),
    sa.Column('planned', sa.Boolean(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('parts_cost', sa.Float(), nullable=True),
    sa.Column('command_id', sa.String(length=200), nullable=True),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('code', sa.String(length=100), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='the full MachineEvent as JSON'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_machine_events'))
    )
    with op.batch_alter_table('machine_events', schema=None) as batch_op:
        batch_op.create_index('ix_machine_events_kind_ts', ['kind', 'ts'], unique=False)
        batch_op.create_index('ix_machine_events_machine_ts', ['machine_id', 'ts'], unique=False)

    op.create_table('pilot_reports',
    sa.Column('report_id', sa.String(length=100), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_pilot_reports'))
    )
    op.create_table('scores',
    sa.Column('machine_id', sa.String(length=200), nullable=False),
    sa.Column('ts', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('model_version', sa.String(length=100), nullable=False),
    sa.Column('score_id', sa.String(length=400), nullable=False),
    sa.Column('line_id', sa.String(length=100), nullable=False),
    sa.Column('health', sa.Float(), nullable=False),
    sa.Column('max_failure_probability', sa.Float(), nullable=False),
    sa.Column('rul_hours', sa.Float(), nullable=True),
    sa.Column('rul_low_hours', sa.Float(), nullable=True),
    sa.Column('rul_high_hours', sa.Float(), nullable=True),
    sa.Column('rul_mode', sa.String(length=100), nullable=True),
    sa.Column('defect_risk', sa.Float(), nullable=True),
    sa.Column('anomaly_score', sa.Float(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='the full HealthScore as JSON'),
    sa.Column('ingested_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('machine_id', 'ts', 'model_version', name=op.f('pk_scores'))
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index('ix_scores_ingested_at', ['ingested_at'], unique=False)
        batch_op.create_index('ix_scores_line_ts', ['line_id', 'ts'], unique=False)

    op.create_table('telemetry_minutes',
    sa.Column('machine_id', sa.String(length=200), nullable=False),
    sa.Column('minute', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('line_id', sa.String(length=100), nullable=False),
    sa.Column('n_samples', sa.Integer(), nullable=False),
    sa.Column('last_ts', store.coltypes.UtcDateTime(timezone=True), nullable=False, comment='newest sample merged: replays stop here'),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('signals', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='{signal: [n, sum, min, max, last]}'),
    sa.PrimaryKeyConstraint('machine_id', 'minute', name=op.f('pk_telemetry_minutes'))
    )
    op.create_table('users',
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_users'))
    )
    op.create_table('webhooks',
    sa.Column('webhook_id', sa.String(length=40), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False, comment='HMAC-SHA256 key; shown once at creation'),
    sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('webhook_id', name=op.f('pk_webhooks'))
    )
    op.create_table('work_orders',
    sa.Column('work_order_id', sa.String(length=40), nullable=False),
    sa.Column('machine_id', sa.String(length=200), nullable=False),
    sa.Column('line_id', sa.String(length=100), nullable=False),
    sa.Column('alert_id', sa.String(length=400), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('component', sa.String(length=100), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('assigned_to', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False, comment='open, closed'),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('failure_mode', sa.String(length=100), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('corrective_action', sa.Text(), nullable=True),
    sa.Column('cost', sa.Float(), nullable=True),
    sa.Column('downtime_s', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('work_order_id', name=op.f('pk_work_orders'))
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_orders_machine_id'), ['machine_id'], unique=False)

    op.create_table('alert_comments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.String(length=400), nullable=False),
    sa.Column('ts', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.alert_id'], name=op.f('fk_alert_comments_alert_id_alerts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_comments'))
    )
    with op.batch_alter_table('alert_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_comments_alert_id'), ['alert_id'], unique=False)

    op.create_table('sessions',
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['username'], ['users.username'], name=op.f('fk_sessions_username_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_sessions'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('delivery_id', sa.String(length=40), nullable=False),
    sa.Column('webhook_id', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False, comment='pending, delivered, failed'),
    sa.Column('next_attempt_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', store.coltypes.UtcDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', store.coltypes.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.webhook_id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
    sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_webhook_id'), ['webhook_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_webhook_id'))
        batch_op.drop_index('ix_webhook_deliveries_status_next')

    op.drop_table('webhook_deliveries')
    op.drop_table('sessions')
    with op.batch_alter_table('alert_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_comments_alert_id'))

    op.drop_table('alert_comments')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_orders_machine_id'))

    op.drop_table('work_orders')
    op.drop_table('webhooks')
    op.drop_table('users')
    op.drop_table('telemetry_minutes')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index('ix_scores_line_ts')
        batch_op.drop_index('ix_scores_ingested_at')

    op.drop_table('scores')
    op.drop_table('pilot_reports')
    with op.batch_alter_table('machine_events', schema=None) as batch_op:
        batch_op.drop_index('ix_machine_events_machine_ts')
        batch_op.drop_index('ix_machine_events_kind_ts')

    op.drop_table('machine_events')
    op.drop_table('baselines')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_ts')
        batch_op.drop_index('ix_audit_log_target')

    op.drop_table('audit_log')
    op.drop_table('api_keys')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_state')
        batch_op.drop_index('ix_alerts_machine_raised')
        batch_op.drop_index('ix_alerts_changed_at')

    op.drop_table('alerts')
