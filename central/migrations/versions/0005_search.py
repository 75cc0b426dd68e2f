"""The inbox's filters, deadlines and full-text search: each report's kecamatan as a
column, its current deadline (``due_from``, ``due_on``: ``central.deadlines``) and the
search table (``central.search``: FTS5 on SQLite, ``tsvector`` with a GIN index on
PostgreSQL), all filled for the reports already stored.

The back-filled deadlines count Indonesia's national calendar; a kabupaten's own file
(``--holidays-file``) moves them when the service starts (``deadlines.follow_calendar``).

Revision ID: c0005
Revises: c0004
Create Date: 2026-12-02
"""
import datetime as dt
import json

from alembic import op
import sqlalchemy as sa

revision = "c0005"
down_revision = "c0004"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("kecamatan_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("due_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
    op.create_index("ix_reports_due", "reports", ["due_on", "tracking_id", "status"])
    op.create_index("ix_reports_agency_due", "reports", ["agency_code", "due_on", "tracking_id"])
    bind = op.get_bind()
    from central import search

    search.create(bind)
    _back_fill(bind)


def _back_fill(bind) -> None:
    """kecamatan, deadline and search text of every stored report, in batches."""
    from central import deadlines, search
    from kiosk.kernel.workdays import NATIONAL

    reports = sa.table("reports", sa.column("tracking_id"), sa.column("body"), sa.column("status"),
                       sa.column("received_at", sa.DateTime(timezone=True)), sa.column("kecamatan_code"),
                       sa.column("due_from", sa.Date()), sa.column("due_on", sa.Date()))
    events = sa.table("report_events", sa.column("tracking_id"), sa.column("status"), sa.column("kind"),
                      sa.column("at", sa.DateTime(timezone=True)))
    after = ""
    while True:
        rows = bind.execute(sa.select(reports.c.tracking_id, reports.c.body, reports.c.status, reports.c.received_at)
                            .where(reports.c.tracking_id > after).order_by(reports.c.tracking_id).limit(BATCH)).all()
        if not rows:
            break
        after = rows[-1].tracking_id
        ids = [r.tracking_id for r in rows]
        # The latest status event of each kind that starts a wait, per report.
        started: dict[tuple[str, str], dt.datetime] = {}
        for tid, status, at in bind.execute(
                sa.select(events.c.tracking_id, events.c.status, sa.func.max(events.c.at))
                .where(events.c.tracking_id.in_(ids), events.c.kind == "status",
                       events.c.status.in_(("forwarded", "rerouted", "answered", "in_progress")))
                .group_by(events.c.tracking_id, events.c.status)):
            started[(tid, status)] = _aware(at)
        updates, documents = [], []
        for row in rows:
            body = json.loads(row.body)
            received = _aware(row.received_at)
            at = _wait_start(row.tracking_id, row.status, received, started)
            start = deadlines.due_from(None, row.status, at, received, None)
            due = NATIONAL.add_working_days(start, deadlines.DAYS[row.status]) if start else None
            kecamatan = body.get("kecamatan_code") if isinstance(body.get("kecamatan_code"), str) else None
            updates.append({"t": row.tracking_id, "k": kecamatan, "f": start, "d": due})
            documents.append((row.tracking_id, body))
        bind.execute(reports.update().where(reports.c.tracking_id == sa.bindparam("t"))
                     .values(kecamatan_code=sa.bindparam("k"), due_from=sa.bindparam("f"), due_on=sa.bindparam("d")),
                     updates)
        search.index_many(bind, documents)


def _aware(at):
    if isinstance(at, str):  # SQLite hands a text back through a plain column
        at = dt.datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def _wait_start(tracking_id: str, status: str, received: dt.datetime, started: dict) -> dt.datetime:
    if status in ("forwarded", "rerouted", "in_progress"):
        found = [started.get((tracking_id, s)) for s in ("forwarded", "rerouted")]
        found = [f for f in found if f] or [started.get((tracking_id, "in_progress"))]
        return max([f for f in found if f], default=received)
    if status == "answered":
        return started.get((tracking_id, "answered"), received)
    return received


def downgrade() -> None:
    from central import search

    search.drop(op.get_bind())
    op.drop_index("ix_reports_agency_due", table_name="reports")
    op.drop_index("ix_reports_due", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("due_on")
        batch.drop_column("due_from")
        batch.drop_column("kecamatan_code")
