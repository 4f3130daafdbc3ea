"""alerts: index on (raised_at, alert_id), the alert list's order (newest first)

Without it every GET /alerts page sorted all matching rows in full; with it the page walks
the index and reads only the rows it returns.

Revision ID: 0004_alerts_raised_at
Revises: 0003_plc_alarm_columns
Create Date: 2026-12-03
"""
from alembic import op

revision = '0004_alerts_raised_at'
down_revision = '0003_plc_alarm_columns'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_alerts_raised_at', 'alerts', ['raised_at', 'alert_id'])


def downgrade() -> None:
    op.drop_index('ix_alerts_raised_at', table_name='alerts')
