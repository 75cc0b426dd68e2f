"""Each report's first verification, forwarding, answer and close on its row, for the
leadership's recap (``central.recap``): one scan of ``reports`` instead of a join with every
status event of the period.

- ``reports.verified_at``, ``forwarded_at``, ``answered_at``, ``closed_at``: the FIRST time
  the report took each step (a status event of that status, ``report_events.kind`` =
  ``status``), never moved by a later one: an answer after an objection, a second forwarding
  after a re-route or a close after a reopening leave them as they were. The ORM keeps them
  with every status event it writes (``central.models.ReportEvent``); here they are filled
  from the events already stored, in one UPDATE that runs on SQLite and PostgreSQL alike.
- Two indexes, so that the recap reads the index alone: ``ix_reports_recap`` the period's
  reports (``received_at``) with every column its counts read, and ``ix_reports_first_steps``
  the period's reports that are no duplicate (``duplicate_of`` NULL) with their first steps.

Revision ID: c0008
Revises: c0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "c0008"
down_revision = "c0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
#: The step columns, by the status whose first event each holds.
STEPS = {"verified": "verified_at", "forwarded": "forwarded_at", "answered": "answered_at", "closed": "closed_at"}
#: As ``central.models.Report``'s indexes.
INDEXES = {"ix_reports_recap": ["received_at", "status", "agency_code", "category_code", "kecamatan_code", "kind",
                                "due_on"],
           "ix_reports_first_steps": ["duplicate_of", "received_at", "verified_at", "forwarded_at", "answered_at"]}


def upgrade() -> None:
    # Plain ALTER TABLE on both (SQLite >= 3.35, as central.ratelimit needs already): a batch
    # copy of ``reports`` would drop the table that report_events refers to.
    for column in STEPS.values():
        op.add_column("reports", sa.Column(column, TS, nullable=True))
    reports = sa.table("reports", sa.column("tracking_id"), *(sa.column(c) for c in STEPS.values()))
    events = sa.table("report_events", sa.column("tracking_id"), sa.column("status"), sa.column("kind"),
                      sa.column("at"))

    def first(status: str):
        return (sa.select(sa.func.min(events.c.at))
                .where(events.c.tracking_id == reports.c.tracking_id, events.c.kind == "status",
                       events.c.status == status)
                .scalar_subquery())

    op.execute(reports.update().values({column: first(status) for status, column in STEPS.items()}))
    for name, columns in INDEXES.items():
        op.create_index(name, "reports", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="reports")
    for column in reversed(STEPS.values()):
        op.drop_column("reports", column)
