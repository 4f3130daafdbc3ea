"""plc_alarm events: English and zh-CN text and the active flag as columns

Revision ID: 0003_plc_alarm_columns
Revises: 0002_api_trust
Create Date: 2026-12-02
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0003_plc_alarm_columns'
down_revision = '0002_api_trust'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('machine_events') as batch:
        batch.add_column(sa.Column('text_en', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('text_zh', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('active', sa.Boolean(), nullable=True,
                                   comment='plc_alarm: true = the alarm came on, false = it went off'))
    # rows written before: the values are in the payload
    conn = op.get_bind()
    events = sa.table('machine_events', sa.column('event_id', sa.String), sa.column('kind', sa.String),
                      sa.column('payload', sa.JSON), sa.column('text_en', sa.String),
                      sa.column('text_zh', sa.String), sa.column('active', sa.Boolean))
    rows = conn.execute(sa.select(events.c.event_id, events.c.payload).where(events.c.kind == 'plc_alarm')).all()
    for event_id, payload in rows:
        data = json.loads(payload) if isinstance(payload, str) else (payload or {})
        conn.execute(events.update().where(events.c.event_id == event_id).values(
            text_en=str(data.get('text', ''))[:500], text_zh=str(data.get('text_zh', ''))[:500],
            active=bool(data.get('active', True))))


def downgrade() -> None:
    with op.batch_alter_table('machine_events') as batch:
        batch.drop_column('active')
        batch.drop_column('text_zh')
        batch.drop_column('text_en')
