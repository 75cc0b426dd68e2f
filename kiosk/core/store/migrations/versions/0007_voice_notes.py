"""A recorded complaint (issue 14): ``voice_notes`` and the outbox's ``voice`` entries.

``voice_notes``: one row per report that was spoken instead of typed, written in the
report's own transaction; the Ogg Opus bytes sealed like report text, and NULL once the
central has them. The outbox gets ``voice_of``: a ``voice`` entry uploads the recording
of that report, and is claimed only once the report's own entry is ``sent``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_notes",
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), primary_key=True),
        sa.Column("audio", sa.LargeBinary(), nullable=True),  # sealed; NULL once delivered
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("voice_of", sa.String(14), nullable=True))
        batch.create_foreign_key("fk_outbox_voice_of", "voice_notes", ["voice_of"], ["tracking_id"])
    op.create_index("ix_outbox_voice_of", "outbox", ["voice_of"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_outbox_voice_of", table_name="outbox")
    op.execute("DELETE FROM outbox WHERE voice_of IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_voice_of", type_="foreignkey")
        batch.drop_column("voice_of")
    op.drop_table("voice_notes")
