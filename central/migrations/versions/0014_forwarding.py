"""FORWARDING: reports travel onward to LAPOR! and Open311 systems (issue 15).

- ``forwarding``: one entry per (report, destination), made in the report's own
  transaction for each destination the forwarding file routes it to
  (``central.forwarding``): its state (pending, sending, sent, failed, unconfirmed), the
  attempts, when a worker takes it next, the last reason (never report text), the
  upstream system's number and what else it answered, how it was confirmed, and which
  worker holds it until when. ``ix_forwarding_due`` serves the workers' claim;
  ``ix_forwarding_waiting`` (partial: not sent) ``python -m central forwarding``.
- ``forwarding_events``: the upstream steps already written into a report's timeline,
  once per (entry, the system's id of the step).

Nothing is back-filled: reports stored before were never routed (docs/FORWARDING.md).

Revision ID: c0014
Revises: c0013
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = "c0014"
down_revision = "c0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "forwarding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("last_reason", sa.String(300), nullable=True),
        sa.Column("upstream_id", sa.String(64), nullable=True),
        sa.Column("extra", sa.Text, nullable=True),
        sa.Column("confirmed_by", sa.String(100), nullable=True),
        sa.Column("unconfirmed_times", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claim_expires", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.UniqueConstraint("tracking_id", "destination", name="uq_forwarding_report_destination"),
    )
    op.create_index("ix_forwarding_due", "forwarding", ["state", "next_attempt_at"])
    op.create_index("ix_forwarding_waiting", "forwarding", ["created_at"], sqlite_where=sa.text("state != 'sent'"),
                    postgresql_where=sa.text("state != 'sent'"))
    op.create_table(
        "forwarding_events",
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("forwarding.id"), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forwarding_events")
    op.drop_index("ix_forwarding_waiting", table_name="forwarding")
    op.drop_index("ix_forwarding_due", table_name="forwarding")
    op.drop_table("forwarding")
