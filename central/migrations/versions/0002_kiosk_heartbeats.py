"""Fleet monitoring: each kiosk's latest heartbeat.

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kiosk_heartbeats",
        sa.Column("kiosk_code", sa.String(4), sa.ForeignKey("kiosks.code"), primary_key=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("queue_depth", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("oldest_waiting_age_s", sa.Float(), nullable=True),
        sa.Column("last_sync_age_s", sa.Float(), nullable=True),
        sa.Column("printer_kind", sa.String(16), nullable=False),
        sa.Column("printer", sa.String(16), nullable=False),
        sa.Column("paper", sa.String(16), nullable=False),
        sa.Column("camera", sa.String(16), nullable=False),
        sa.Column("disk_free_bytes", sa.BigInteger(), nullable=False),
        sa.Column("disk_total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kiosk_heartbeats")
