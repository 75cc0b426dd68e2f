"""The citizen's answer to the answer (issue 13): objections and ratings filed at the
status screen wait in the outbox like reports.

``feedback``: one row per objection or rating, its key the idempotency key the central
records it under; the objection's text sealed like report text, and forgotten (NULL) once
the central has it. The outbox gets a ``kind`` (``report``, ``objection``, ``rating``) and
``feedback_key``: a feedback entry has no ``tracking_id`` of its own (the report may be
another kiosk's, so no foreign key to ``reports`` can hold).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tracking_id", sa.String(14), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("text", sa.LargeBinary(), nullable=True),  # sealed; NULL once delivered
        sa.Column("filed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_feedback_tracking_id", "feedback", ["tracking_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("tracking_id", existing_type=sa.String(14), nullable=True)
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="report"))
        batch.add_column(sa.Column("feedback_key", sa.String(32), nullable=True))
        batch.create_foreign_key("fk_outbox_feedback_key", "feedback", ["feedback_key"], ["key"])
    op.create_index("ix_outbox_feedback_key", "outbox", ["feedback_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_outbox_feedback_key", table_name="outbox")
    op.execute("DELETE FROM outbox WHERE feedback_key IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_feedback_key", type_="foreignkey")
        batch.drop_column("feedback_key")
        batch.drop_column("kind")
        batch.alter_column("tracking_id", existing_type=sa.String(14), nullable=False)
    op.drop_index("ix_feedback_tracking_id", table_name="feedback")
    op.drop_table("feedback")
