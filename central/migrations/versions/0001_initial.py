"""Initial central schema: kiosks, officers, reports, conflicts, events, reference data.

Revision ID: c0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("code", sa.String(4), primary_key=True),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "reports",
        sa.Column("tracking_id", sa.String(14), primary_key=True),
        sa.Column("kiosk_code", sa.String(4), sa.ForeignKey("kiosks.code"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("category_code", sa.String(64), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_table(
        "intake_conflicts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tracking_id", sa.String(14), nullable=False, index=True),
        sa.Column("kiosk_code", sa.String(4), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_table(
        "report_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), nullable=False, index=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("public_reply", sa.Text(), nullable=True),
        sa.Column("agency_code", sa.String(64), nullable=True),
    )
    op.create_table(
        "officers",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "reference_sets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False, unique=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("officers", "reference_sets", "report_events", "intake_conflicts", "reports", "kiosks"):
        op.drop_table(table)
