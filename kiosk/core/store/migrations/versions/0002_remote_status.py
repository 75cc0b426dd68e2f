"""Remote status: what the central service last said about a report this kiosk issued.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_status",
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),  # the central's public status JSON: no identity
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("remote_status")
