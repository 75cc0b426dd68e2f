"""An account's state apart from its API token; the tokens made before roles become scripts';
the audit log's detail.

- ``officers.disabled_at``: an admin disabled the account (no login, every session ends, and
  its API token is revoked at once). Before this revision disabling set ``revoked_at``, and
  enabling cleared it, so the old token came back with the account. From now on
  ``revoked_at`` is the token's own state: enabling the account leaves it revoked, and only a
  new token (``python -m central officer token NAME``) works again. The accounts disabled
  before this revision stay disabled (``disabled_at`` = their ``revoked_at``), their tokens
  revoked.
- ``officers.role`` ``script``: what c0003 made ``admin`` but never gave a password (the
  tokens of the old ``python -m central officer add NAME``, before roles). c0003 made them
  admins because their tokens could move any report; but an ``admin`` row is one
  ``officer password NAME`` or one "Reset the password" on the accounts page away from a
  full admin of the workbench, with the reporters' identities, under a name that nobody
  chose for a person. A ``script`` keeps what its token could do before roles (every
  lifecycle action on any report through ``POST /api/v1/officer/reports/{id}/actions``, and
  the fleet), so a kabupaten's scripts go on working after the upgrade; it is no workbench
  account: it cannot sign in, get a password, TOTP or another role, and it is not counted as
  an admin. An officer who is a person gets a workbench account of their own. An old
  officer an operator already gave a password (``officer password NAME`` after c0003) did
  choose a workbench admin: it stays ``admin``.
- ``audit_log.detail``: what a line needs besides its report or account, such as the period
  and options of a CSV export (never a report's text or anyone's name).

Downgrade: a ``script`` is ``admin`` again (as c0003 left it); a disabled account's token is
revoked as before (``revoked_at``), and a token revoked on an active account is forgotten
(``token_sha256`` NULL), since before this revision a revoked token meant a disabled account.

Revision ID: c0009
Revises: c0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0009"
down_revision = "c0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


# Plain ALTER TABLE ADD / DROP COLUMN on both databases (SQLite 3.35 and later drops a
# column in place): a batch copy of ``officers`` on SQLite would drop the table that the
# sessions of signed-in officers refer to, which its foreign keys refuse.
def upgrade() -> None:
    op.add_column("officers", sa.Column("disabled_at", TS, nullable=True))
    op.execute("UPDATE officers SET disabled_at = revoked_at WHERE revoked_at IS NOT NULL")
    op.execute("UPDATE officers SET role = 'script', agency_code = NULL WHERE role = 'admin' AND password_hash IS NULL")
    op.add_column("audit_log", sa.Column("detail", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_log", "detail")
    op.execute("UPDATE officers SET role = 'admin' WHERE role = 'script'")
    op.execute("UPDATE officers SET token_sha256 = NULL, revoked_at = NULL "
               "WHERE disabled_at IS NULL AND revoked_at IS NOT NULL")
    op.execute("UPDATE officers SET revoked_at = disabled_at WHERE disabled_at IS NOT NULL")
    op.drop_column("officers", "disabled_at")
