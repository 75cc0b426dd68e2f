"""The citizen's answer to the answer (issue 13): objections ("Masalah belum selesai") and
satisfaction ratings, each recorded once per idempotency key (the kiosk's feedback item
id, or one the public page made), so a retried delivery is never a second objection.

An objection reopens an answered report to its agency (``central.feedback``); a rating is
kept per key and the report's rating is its latest one. Automatic closing needs no
column: it closes ``answered`` reports whose ``due_on`` has passed (``central.feedback``).

Revision ID: c0006
Revises: c0005
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0006"
down_revision = "c0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), nullable=False),
        sa.Column("kiosk_code", sa.String(4), nullable=True),  # None: the public page
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_objections_tracking_id", "objections", ["tracking_id", "received_at"])
    op.create_table(
        "ratings",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), nullable=False),
        sa.Column("kiosk_code", sa.String(4), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_ratings_tracking_id", "ratings", ["tracking_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_ratings_tracking_id", table_name="ratings")
    op.drop_table("ratings")
    op.drop_index("ix_objections_tracking_id", table_name="objections")
    op.drop_table("objections")
