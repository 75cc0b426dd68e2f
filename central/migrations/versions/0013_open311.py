"""OPEN311: reports filed through Open311 GeoReport v2 (issue 15), beside the kiosks'.

- ``reports.channel``: how a report came in, ``kiosk`` for every report stored before;
  ``open311`` for the requests of ``central.open311``. ``ix_reports_recap`` gains it, so the
  recap's breakdown by channel still reads the index alone.
- ``kiosks.channel``: ``kiosk`` for every registered kiosk; a row of another channel is the
  central's own issuer code for that channel's Tracking IDs (reserved, no usable token,
  never in the fleet), made when the central starts (``central.service.reserve_issuer``).
- ``open311_clients``: the systems that may file requests (``api_key`` as a SHA-256
  digest), registered with ``python -m central open311-client add NAME``.
- ``open311_requests``: each request's report, client, the client's own ID of it (once per
  client: the idempotency key), the token ``GET tokens/{token}`` answers, and a digest of
  what was asked.
- ``reports.open311_id``: each report's public id in Open311 (its ``service_request_id``),
  random and unique (``ix_reports_open311_id``), because the Tracking ID is the receipt
  holder's secret and never published. Every stored report gets one here, in batches; the
  column is added NOT NULL with the constant default '' (SQLite's ALTER TABLE can add a NOT
  NULL column only so, and a batch copy of ``reports`` would drop the table other tables
  refer to), which PostgreSQL drops after the back-fill; on SQLite it stays, and the unique
  index refuses a second report stored without an id of its own.

Revision ID: c0013
Revises: c0012
Create Date: 2026-12-04
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = "c0013"
down_revision = "c0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
RECAP = ["received_at", "status", "agency_code", "category_code", "kecamatan_code", "kind", "due_on"]
BATCH = 2000
#: As ``central.models.OPEN311_ID_LEN`` and ``new_open311_id`` at this revision: 64 random bits, hex.
OPEN311_ID_LEN = 16


def upgrade() -> None:
    for table in ("reports", "kiosks"):  # plain ALTER TABLE: every existing row is a kiosk's
        op.add_column(table, sa.Column("channel", sa.String(16), nullable=False, server_default="kiosk"))
    op.drop_index("ix_reports_recap", table_name="reports")
    op.create_index("ix_reports_recap", "reports", [*RECAP, "channel"])
    op.create_table(
        "open311_clients",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "open311_requests",
        sa.Column("tracking_id", sa.String(14), sa.ForeignKey("reports.tracking_id"), primary_key=True),
        sa.Column("client_name", sa.String(100), sa.ForeignKey("open311_clients.name"), nullable=False),
        sa.Column("client_report_id", sa.String(64), nullable=True),
        sa.Column("token", sa.String(32), nullable=False, unique=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("client_name", "client_report_id", name="uq_open311_requests_client_report"),
    )
    op.add_column("reports", sa.Column("open311_id", sa.String(OPEN311_ID_LEN), nullable=False, server_default=""))
    _back_fill_open311_ids(op.get_bind())
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("reports", "open311_id", existing_type=sa.String(OPEN311_ID_LEN), server_default=None)
    op.create_index("ix_reports_open311_id", "reports", ["open311_id"], unique=True)


def _back_fill_open311_ids(bind) -> None:
    """A random public id for every stored report, by keyset on the Tracking ID."""
    reports = sa.table("reports", sa.column("tracking_id"), sa.column("open311_id"))
    after = ""
    while True:
        ids = bind.execute(sa.select(reports.c.tracking_id).where(reports.c.tracking_id > after)
                           .order_by(reports.c.tracking_id).limit(BATCH)).scalars().all()
        if not ids:
            break
        after = ids[-1]
        # 64 bits: two of a million reports share one with a chance of 3 in 10^8; then the
        # unique index below fails, the whole migration rolls back, and the next run draws anew.
        updates = [{"t": tracking_id, "o": secrets.token_hex(OPEN311_ID_LEN // 2)} for tracking_id in ids]
        bind.execute(reports.update().where(reports.c.tracking_id == sa.bindparam("t"))
                     .values(open311_id=sa.bindparam("o")), updates)


def downgrade() -> None:
    op.drop_index("ix_reports_open311_id", table_name="reports")
    op.drop_column("reports", "open311_id")
    op.drop_table("open311_requests")
    op.drop_table("open311_clients")
    op.drop_index("ix_reports_recap", table_name="reports")
    op.create_index("ix_reports_recap", "reports", RECAP)
    for table in ("kiosks", "reports"):
        op.drop_column(table, "channel")
