"""API trust: line scopes for users, session idle time, login throttle

Revision ID: 0002_api_trust
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import store.coltypes

revision = '0002_api_trust'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True,
                                   comment='line ids the user may see; null or [] = all'))
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('last_seen_at', store.coltypes.UtcDateTime(), nullable=True,
                                   comment='last request (idle timeout); null = created_at'))
    op.create_table('login_throttle',
    sa.Column('subject', sa.String(length=300), nullable=False, comment="'user:<name>' or 'addr:<client address>'"),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', store.coltypes.UtcDateTime(), nullable=False),
    sa.Column('last_failed_at', store.coltypes.UtcDateTime(), nullable=False),
    sa.Column('locked_until', store.coltypes.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('subject', name=op.f('pk_login_throttle'))
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('last_seen_at')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('lines')
