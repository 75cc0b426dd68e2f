"""The report page's actions: what kind of step each event is (a status change the citizen
may read, or an internal note, a request to re-route, a merge), which report a duplicate
follows, and the reply templates per category.

Every event before this revision was a status change (``kind`` "status"). Only "status"
events ever leave the central (the public status API, the public page, the kiosks).

Revision ID: c0004
Revises: c0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("report_events") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="status"))
    with op.batch_alter_table("report_events") as batch:
        batch.alter_column("kind", existing_type=sa.String(16), server_default=None)
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("duplicate_of", sa.String(14), nullable=True))
        batch.create_foreign_key("fk_reports_duplicate_of", "reports", ["duplicate_of"], ["tracking_id"])
    op.create_index("ix_reports_duplicate_of", "reports", ["duplicate_of"])
    op.create_table(
        "reply_templates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("category_code", sa.String(64), nullable=True),  # None: every category
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_reply_templates_category_code", "reply_templates", ["category_code"])


def downgrade() -> None:
    op.drop_index("ix_reply_templates_category_code", table_name="reply_templates")
    op.drop_table("reply_templates")
    op.drop_index("ix_reports_duplicate_of", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("fk_reports_duplicate_of", type_="foreignkey")
        batch.drop_column("duplicate_of")
    with op.batch_alter_table("report_events") as batch:
        batch.drop_column("kind")
