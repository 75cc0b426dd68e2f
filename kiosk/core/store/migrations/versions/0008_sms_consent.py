"""One SMS when the report is answered (issue 16): ``reports.sms_consent``.

True when the citizen, having given a phone number for a report that is not anonymous,
agreed on the identity step to one SMS when the report is answered; the report then
carries ``sms_consent: true`` to the central. Every report kept before this revision
says no (the server default), and is sent as it was before: without the field.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (its default fills the rows kept): a batch would copy ``reports``
    # and drop it, which the outbox's and the recordings' foreign keys refuse.
    op.add_column("reports", sa.Column("sms_consent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute("ALTER TABLE reports DROP COLUMN sms_consent")  # SQLite 3.35 and later
