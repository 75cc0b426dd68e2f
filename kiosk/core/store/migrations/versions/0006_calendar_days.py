"""The kabupaten's own calendar days, from the central's reference data.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The central keeps the kabupaten's days off (its anniversary, a regional holiday) and days
worked after all, and sends them with the reference data (``calendar_days``); the kiosk
keeps them in ``calendar_days`` and counts the status screen's expected dates with them
(``kiosk.core.reference.work_calendar``), so the citizen reads the dates the officers
work to. Empty until reference data carrying them is loaded: Indonesia's days only.

The reference ETag the kiosk holds is forgotten: a kiosk that stored the central's data
before this revision ignored the days in it, and would otherwise be told "not modified".
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.execute("DELETE FROM meta WHERE key = 'reference_etag'")


def downgrade() -> None:
    op.drop_table("calendar_days")
