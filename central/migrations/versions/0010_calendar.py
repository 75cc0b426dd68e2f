"""CALENDAR: the kabupaten's calendar days, kept by the central instead of a file given to
every command.

``kabupaten_days``: one row per day of the kabupaten's own on top of Indonesia's holidays
and collective leave: ``working`` false for a day off (its anniversary, a regional
holiday), true for a day worked after all; ``name`` what the day is. ``python -m central
holidays import FILE`` replaces them all at once; every deadline counts with them
(``central.deadlines.load_calendar``) and ``GET /api/v1/reference`` carries them to the
kiosks (``calendar_days``). Empty after this revision: a central that was given
``--holidays-file`` imports that file at its next start.

Revision ID: c0010
Revises: c0009
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0010"
down_revision = "c0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kabupaten_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kabupaten_days")
