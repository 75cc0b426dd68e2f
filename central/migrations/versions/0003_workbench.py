"""The officers' workbench: roles, passwords, TOTP and locks on officers; sessions, failed
logins and the audit log; the inbox's indexes on reports.

Officers made before this revision keep their API tokens and become ``admin`` (their
tokens could already move any report); they have no password until ``python -m central
officer password NAME``, so none of them can sign in to the workbench by accident.

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.alter_column("token_sha256", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="admin"))
        batch.add_column(sa.Column("agency_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", TS, nullable=True))
        batch.add_column(sa.Column("password_changed_at", TS, nullable=True))
    # The defaults filled the existing rows; new rows get theirs from the application.
    with op.batch_alter_table("officers") as batch:
        batch.alter_column("role", existing_type=sa.String(16), server_default=None)
        batch.alter_column("failed_logins", existing_type=sa.Integer(), server_default=None)
    op.create_table(
        "workbench_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("officer_name", sa.String(100), sa.ForeignKey("officers.name"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("name_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])
    op.create_index("ix_login_failures_name_at", "login_failures", ["name_sha256", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("officer_name", sa.String(100), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("tracking_id", sa.String(14), nullable=True),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_index("ix_reports_received", "reports", ["received_at", "tracking_id"])
    op.create_index("ix_reports_status_received", "reports", ["status", "received_at", "tracking_id"])
    op.create_index("ix_reports_agency_status_received", "reports", ["agency_code", "status", "received_at", "tracking_id"])


def downgrade() -> None:
    for index in ("ix_reports_agency_status_received", "ix_reports_status_received", "ix_reports_received"):
        op.drop_index(index, table_name="reports")
    op.drop_table("audit_log")
    op.drop_table("login_failures")
    op.drop_table("workbench_sessions")
    with op.batch_alter_table("officers") as batch:
        for column in ("password_changed_at", "locked_until", "failed_logins", "totp_last_step", "totp_secret",
                       "password_hash", "agency_code", "role"):
            batch.drop_column(column)
        batch.alter_column("token_sha256", existing_type=sa.String(64), nullable=False)
