"""VOICE: a report's recorded complaint (issue 14), uploaded by its kiosk after the report.

- ``voice_notes``: one per report, keyed by its Tracking ID; ``sha256`` of the Ogg Opus
  bytes in ``content`` (bytea on PostgreSQL), their ``size`` and when they came. A kiosk
  that sends the same recording again gets the same answer; another one is refused.

Revision ID: c0012
Revises: c0011
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0012"
down_revision = "c0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_notes",
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("voice_notes")
