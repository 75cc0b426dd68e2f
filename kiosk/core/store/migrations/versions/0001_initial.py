"""Initial schema: reports, outbox, reference data, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("tracking_id", sa.String(14), primary_key=True),
        sa.Column("kiosk_code", sa.String(4), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("category_code", sa.String(64), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=True),
        sa.Column("title", sa.LargeBinary(), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=False),
        sa.Column("incident_date", sa.Date(), nullable=False),
        sa.Column("kecamatan_code", sa.String(64), nullable=False),
        sa.Column("location_text", sa.LargeBinary(), nullable=False),
        sa.Column("reporter_name", sa.LargeBinary(), nullable=True),
        sa.Column("reporter_phone", sa.LargeBinary(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"])
    for table in ("categories", "agencies"):
        op.create_table(
            table,
            sa.Column("code", sa.String(64), primary_key=True),
            sa.Column("name_id", sa.String(200), nullable=False),
            sa.Column("name_en", sa.String(200), nullable=False),
            sa.Column("sort", sa.Integer(), nullable=False),
        )
    op.create_table(
        "kecamatan",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "kecamatan", "agencies", "categories"):
        op.drop_table(table)
    op.drop_index("ix_outbox_due", "outbox")
    op.drop_table("outbox")
    op.drop_table("reports")
