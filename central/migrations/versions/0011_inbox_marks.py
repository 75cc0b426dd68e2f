"""MARKS: the inbox's marks for the reports that wait for a decision.

- ``reports.reroute_requested_at``: when the report's agency asked the admins to re-route
  it (a ``reroute_request`` event), while no status event has come since;
- ``reports.objected_at``: when the citizen's objection took it back to its agency (a
  status event ``objected``), while it is with an agency and not answered again;
- a partial index of each (``received_at``, ``tracking_id``, ``agency_code``, ``status``
  of the marked reports only), so that the inbox's filter and its count read a few rows
  of an index, whatever the number of reports.

The ORM keeps both with every event it writes (``central.models._marks``); here they are
filled from the events already stored, the same way.

Revision ID: c0011
Revises: c0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "c0011"
down_revision = "c0010"
branch_labels = None
depends_on = None

COLUMNS = ("reroute_requested_at", "objected_at")
#: As ``central.models.KEEPS_OBJECTION``.
KEEPS_OBJECTION = ("forwarded", "rerouted", "in_progress")


def upgrade() -> None:
    for column in COLUMNS:  # plain ALTER TABLE, as c0008
        op.add_column("reports", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    reports = sa.table("reports", sa.column("tracking_id"), *(sa.column(c) for c in COLUMNS))
    events = sa.table("report_events", sa.column("id"), sa.column("tracking_id"), sa.column("status"),
                      sa.column("kind"), sa.column("at"))
    conn = op.get_bind()
    marked = (sa.select(events.c.tracking_id)
              .where(sa.or_(events.c.kind == "reroute_request",
                            sa.and_(events.c.kind == "status", events.c.status == "objected")))
              .distinct().scalar_subquery())
    rows = conn.execute(sa.select(events.c.tracking_id, events.c.kind, events.c.status, events.c.at)
                        .where(events.c.tracking_id.in_(marked), events.c.kind.in_(("status", "reroute_request")))
                        .order_by(events.c.tracking_id, events.c.at, events.c.id)).all()
    marks: dict[str, dict] = {}
    for tracking_id, kind, status, at in rows:  # as central.models._marks, event by event
        values = marks.setdefault(tracking_id, {"reroute_requested_at": None, "objected_at": None})
        if kind == "reroute_request":
            values["reroute_requested_at"] = at
            continue
        values["reroute_requested_at"] = None
        if status == "objected":
            values["objected_at"] = at
        elif status not in KEEPS_OBJECTION:
            values["objected_at"] = None
    for tracking_id, values in marks.items():
        if any(values.values()):
            conn.execute(reports.update().where(reports.c.tracking_id == tracking_id).values(values))
    for column in COLUMNS:
        op.create_index(f"ix_reports_{column}", "reports", ["received_at", "tracking_id", "agency_code", "status"],
                        sqlite_where=sa.text(f"{column} IS NOT NULL"),
                        postgresql_where=sa.text(f"{column} IS NOT NULL"))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_index(f"ix_reports_{column}", table_name="reports")
        op.drop_column("reports", column)
