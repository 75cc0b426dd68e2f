"""Accounts from the admin's pages, TOTP secrets sealed at rest, and the status-lookup
rate limit shared by every worker.

- ``officers.totp_secret`` grows to hold a sealed secret (``central.crypto``: Fernet);
  plain secrets stored before this revision are sealed by the central at its next start
  with a key (``--secret-key-file``), since a migration never sees the key.
- ``officers.must_change_password``: a password an admin set (new account, reset) is
  one-time: the officer must choose their own at the next login.
- ``officers.last_login_at``: shown on the accounts page.
- ``workbench_sessions.pending_totp``: the sealed secret an officer is enrolling, until
  they confirm one code.
- ``audit_log.subject``: whose account an admin changed (the actor is ``officer_name``).
- ``rate_buckets``: one token bucket per scope (``public``, ``kiosk``) and client, updated
  in one statement per lookup (``central.ratelimit``), so N workers allow the limit once.

Revision ID: c0007
Revises: c0006
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0007"
down_revision = "c0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(64), type_=sa.String(255), existing_nullable=True)
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_login_at", TS, nullable=True))
    with op.batch_alter_table("officers") as batch:
        batch.alter_column("must_change_password", existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table("workbench_sessions") as batch:
        batch.add_column(sa.Column("pending_totp", sa.String(255), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("subject", sa.String(100), nullable=True))
    op.create_table(
        "rate_buckets",
        sa.Column("scope", sa.String(8), primary_key=True),
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),  # seconds since the epoch: portable arithmetic
        sa.Column("allowed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_rate_buckets_scope_at", "rate_buckets", ["scope", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_buckets_scope_at", table_name="rate_buckets")
    op.drop_table("rate_buckets")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("subject")
    with op.batch_alter_table("workbench_sessions") as batch:
        batch.drop_column("pending_totp")
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("last_login_at")
        batch.drop_column("must_change_password")
        batch.alter_column("totp_secret", existing_type=sa.String(255), type_=sa.String(64), existing_nullable=True)
