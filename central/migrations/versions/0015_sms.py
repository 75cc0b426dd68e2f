"""SMS: file, check and hear back from any phone (issue 16).

- ``sms_messages``: every SMS a gateway handed over, once per (gateway, message key): its
  sealed number and text, the number's keyed hash, what became of it and the report it
  filed or asked about. ``ix_sms_messages_unpurged`` (partial: not purged yet) serves the
  retention purge.
- ``sms_outbox``: every SMS the central sends, once per dedupe key, with its state,
  attempts, next attempt and claim; ``ix_sms_outbox_due`` serves ``SmsDesk.due``.
- ``sms_opt_outs``: the numbers that sent STOP (keyed hash, and the number sealed).

Revision ID: c0015
Revises: c0014
Create Date: 2026-12-12
"""
from alembic import op
import sqlalchemy as sa

revision = "c0015"
down_revision = "c0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("message_key", sa.String(128), nullable=False),
        sa.Column("sender_sealed", sa.Text, nullable=True),
        sa.Column("sender_hash", sa.String(64), nullable=True),
        sa.Column("text_sealed", sa.Text, nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("tracking_id", sa.String(14), nullable=True),
        sa.Column("purged_at", TS, nullable=True),
        sa.UniqueConstraint("gateway", "message_key", name="uq_sms_messages_gateway_key"),
    )
    op.create_index("ix_sms_messages_tracking_id", "sms_messages", ["tracking_id", "outcome"])
    op.create_index("ix_sms_messages_unpurged", "sms_messages", ["taken_at"], sqlite_where=sa.text("purged_at IS NULL"),
                    postgresql_where=sa.text("purged_at IS NULL"))
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(80), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("to_sealed", sa.Text, nullable=True),
        sa.Column("to_hash", sa.String(64), nullable=True),
        sa.Column("text_sealed", sa.Text, nullable=True),
        sa.Column("tracking_id", sa.String(14), nullable=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("sms_messages.id"), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("claim_expires", TS, nullable=True),
        sa.Column("last_reason", sa.String(300), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
    )
    op.create_index("ix_sms_outbox_due", "sms_outbox", ["gateway", "state", "next_attempt_at"])
    op.create_index("ix_sms_outbox_tracking_id", "sms_outbox", ["tracking_id"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("number_hash", sa.String(64), primary_key=True),
        sa.Column("number_sealed", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_sms_outbox_tracking_id", table_name="sms_outbox")
    op.drop_index("ix_sms_outbox_due", table_name="sms_outbox")
    op.drop_table("sms_outbox")
    op.drop_index("ix_sms_messages_unpurged", table_name="sms_messages")
    op.drop_index("ix_sms_messages_tracking_id", table_name="sms_messages")
    op.drop_table("sms_messages")
