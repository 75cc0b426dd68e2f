"""Remote status without free text in plain: titles dropped, officers' replies sealed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Up to 0002 the status pull kept the central's whole answer as plain JSON, the title of
every non-confidential report included. From 0003 ``body`` holds it without the title and
without the public replies, which go, sealed with the store's key, into the new
``replies`` column. A migration has no key, so existing rows are converted by keeping
less: the title is dropped from every body, and a row holding a reply is deleted (the next
status pull asks the central again, since an unknown status is pulled first). The work
runs with ``secure_delete`` and ends by rebuilding the table, so the old plaintext is
overwritten with zeros rather than left in the file's free space.
"""
import json

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _without_free_text(body: str) -> str | None:
    """``body`` without its title; None when it cannot be kept (a reply, or unreadable)."""
    try:
        status = json.loads(body)
        events = status.get("events") or []
        if any(event.get("public_reply") for event in events):
            return None
    except (ValueError, TypeError, AttributeError):
        return None
    status["title"] = None
    return json.dumps(status, ensure_ascii=False, separators=(",", ":"))


def upgrade() -> None:
    conn = op.get_bind()
    secure_delete = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
    conn.exec_driver_sql("PRAGMA secure_delete = ON")
    try:
        for tracking_id, body in conn.exec_driver_sql("SELECT tracking_id, body FROM remote_status").all():
            kept = _without_free_text(body)
            if kept is None:
                conn.exec_driver_sql("DELETE FROM remote_status WHERE tracking_id = ?", (tracking_id,))
            else:
                conn.exec_driver_sql("UPDATE remote_status SET body = ? WHERE tracking_id = ?", (kept, tracking_id))
        # A new table (copied), the old one dropped: its pages, with whatever earlier
        # versions of the rows their free space still held, are zeroed as they are freed.
        with op.batch_alter_table("remote_status", recreate="always") as batch:
            batch.add_column(sa.Column("replies", sa.LargeBinary(), nullable=True))
    finally:
        conn.exec_driver_sql(f"PRAGMA secure_delete = {int(secure_delete)}")


def downgrade() -> None:
    # 0002 kept replies in plain JSON: sealed ones cannot go back without the key, so they go.
    with op.batch_alter_table("remote_status", recreate="always") as batch:
        batch.drop_column("replies")
