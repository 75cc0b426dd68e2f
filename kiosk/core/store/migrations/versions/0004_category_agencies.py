"""The agencies that usually handle each category (``usual_agencies``), and where the
reference data came from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

The agency step shows the agencies that usually handle the chosen category first; the
reference data now says which (``categories[].usual_agencies``), and the kiosk keeps that
in the new ``category_agencies`` table (empty until reference data carrying it is loaded).

The kiosk also notes where its reference data came from (``meta.reference_source``:
``seed`` or ``central``), so a kiosk still on an earlier version of its own seed takes the
new seed at start (spelled-out agency names, the usual agencies), while data the central
sent is never overwritten by the seed. Before this revision the seed had only ever been
version ``2026-11-23.1``: a kiosk holding that version holds the seed.
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Every version the seed file had before this revision.
EARLIER_SEED_VERSIONS = ("2026-11-23.1",)


def upgrade() -> None:
    op.create_table(
        "category_agencies",
        sa.Column("category_code", sa.String(64), primary_key=True),
        sa.Column("agency_code", sa.String(64), primary_key=True),
        sa.Column("sort", sa.Integer(), nullable=False),
    )
    conn = op.get_bind()
    held = conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'reference_version'").scalar()
    if held is not None:
        source = "seed" if held in EARLIER_SEED_VERSIONS else "central"
        conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('reference_source', ?)", (source,))


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'reference_source'")
    op.drop_table("category_agencies")
