"""Submitting a report: the report row and its outbox entry in ONE durable transaction."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from kiosk.core.domain import Draft, ReportKind, SavedReport
from kiosk.core.receipt import ReceiptContent
from kiosk.core.store.db import MB, CannotKeepReports, Store, StoreError, no_room_reason
from kiosk.core.store.models import Report
from kiosk.kernel.tracking_id import new_tracking_id
from kiosk.kernel.wire import ReportIn
from sync_queue.outbox import Outbox, OutboxState

log = logging.getLogger(__name__)

#: How many fresh Tracking IDs to draw when one already exists (2^-45 each: never twice).
MAX_ID_DRAWS = 5
REQUIRED = ("kind", "category_code", "title", "description", "incident_date", "kecamatan_code")


class IncompleteDraft(ValueError):
    """A required answer is missing; ``field`` names it."""

    def __init__(self, field: str):
        super().__init__(f"draft is missing {field}")
        self.field = field


@dataclasses.dataclass(frozen=True)
class LocalReportStatus:
    """What the kiosk may say about one of its reports: never content or identity."""

    tracking_id: str
    created_at: dt.datetime
    outbox_state: OutboxState | None
    kind: ReportKind
    category_code: str
    confidential: bool


class ReportService:
    """Saves drafts as reports and answers what the kiosk knows about them."""

    def __init__(self, store: Store, *, kiosk_code: str, clock: Callable[[], dt.datetime],
                 id_factory: Callable[[str], str] = new_tracking_id, min_free_disk_mb: int = 0):
        self.store = store
        self.kiosk_code = kiosk_code
        self.clock = clock
        self.id_factory = id_factory
        self.reserve_bytes = min_free_disk_mb * MB
        #: This service's view of the outbox (entries are enqueued with their report).
        self.outbox = Outbox(store.engine, now=clock, on_delivered=self.on_delivered)

    def room_problem(self) -> str | None:
        """Why no report can be kept now (disk below the reserve, or read-only), or None."""
        return self.store.room_problem(self.reserve_bytes)

    def submit(self, draft: Draft) -> SavedReport:
        """Write the report and its outbox entry together; durable when this returns."""
        for field in REQUIRED:
            value = getattr(draft, field)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise IncompleteDraft(field)
        problem = self.room_problem()
        if problem:  # refuse before the disk is really full: a report must never be half-kept
            raise CannotKeepReports(f"report not saved: {problem}")
        seal = self.store.sealer.seal
        for _ in range(MAX_ID_DRAWS):
            tracking_id = self.id_factory(self.kiosk_code)
            now = self.clock()
            try:
                with self.store.session() as session, session.begin():
                    session.add(Report(
                        tracking_id=tracking_id, kiosk_code=self.kiosk_code, kind=ReportKind(draft.kind).value,
                        category_code=draft.category_code, agency_code=draft.agency_code,
                        title=seal(draft.title), description=seal(draft.description),
                        incident_date=draft.incident_date, kecamatan_code=draft.kecamatan_code,
                        location_text=seal(draft.location_text),
                        reporter_name=seal(draft.reporter_name) if draft.reporter_name else None,
                        reporter_phone=seal(draft.reporter_phone) if draft.reporter_phone else None,
                        anonymous=draft.anonymous, confidential=draft.confidential,
                        language=draft.language, created_at=now,
                    ))
                    session.flush()  # the report first: the outbox row references it
                    self.outbox.enqueue(session, tracking_id, now)
            except IntegrityError as exc:
                if self._exists(tracking_id):
                    log.warning("tracking id drawn twice; drawing another")
                    continue
                raise StoreError(f"report not saved: {type(exc.orig).__name__}") from None
            except (OperationalError, SQLAlchemyError) as exc:
                reason = no_room_reason(exc)
                if reason:
                    raise CannotKeepReports(f"report not saved: {reason}") from None
                raise StoreError(f"report not saved: {type(getattr(exc, 'orig', exc)).__name__}: {getattr(exc, 'orig', exc)}") from None
            log.info("report saved and queued")
            return SavedReport(tracking_id=tracking_id, created_at=now, draft=dataclasses.replace(draft), kiosk_code=self.kiosk_code)
        raise StoreError("could not draw an unused tracking id")

    def _exists(self, tracking_id: str) -> bool:
        with self.store.session() as session:
            return session.get(Report, tracking_id) is not None

    def find(self, tracking_id: str) -> LocalReportStatus | None:
        with self.store.session() as session:
            row = session.execute(
                select(Report.tracking_id, Report.created_at, Report.kind, Report.category_code, Report.confidential)
                .where(Report.tracking_id == tracking_id)
            ).first()
        if row is None:
            return None
        return LocalReportStatus(
            tracking_id=row.tracking_id, created_at=row.created_at, outbox_state=self.outbox.state_of(tracking_id),
            kind=ReportKind(row.kind), category_code=row.category_code, confidential=row.confidential,
        )

    def load_draft(self, tracking_id: str) -> Draft | None:
        """The full report as entered (for reprints and, later, sending)."""
        with self.store.session() as session:
            row = session.get(Report, tracking_id)
            if row is None:
                return None
            unseal = self.store.sealer.open
            return Draft(
                kind=ReportKind(row.kind), category_code=row.category_code, agency_code=row.agency_code,
                title=unseal(row.title), description=unseal(row.description), incident_date=row.incident_date,
                kecamatan_code=row.kecamatan_code, location_text=unseal(row.location_text),
                reporter_name=unseal(row.reporter_name) if row.reporter_name else "",
                reporter_phone=unseal(row.reporter_phone) if row.reporter_phone else "",
                anonymous=row.anonymous, confidential=row.confidential, language=row.language,
            )

    def reprint(self, tracking_id: str, *, config, language: str | None = None) -> ReceiptContent | None:
        """What the printer needs for a copy (marked SALINAN/COPY) of a receipt this kiosk
        issued, in ``language`` (default: the citizen's); None when the report, or its
        details, have left this kiosk. ``config`` gives the institution and status URL.

        The one reprint of the CLI (``kiosk reprint``), the admin screen and the status
        screen; the caller prints it on the printer's thread."""
        import types

        from kiosk.core.receipt_content import receipt_content

        status, draft = self.find(tracking_id), self.load_draft(tracking_id)
        if status is None or draft is None:
            return None
        saved = SavedReport(tracking_id=tracking_id, created_at=status.created_at, draft=draft, kiosk_code=self.kiosk_code)
        # receipt_content reads only the store (category names) and the config of an environment.
        where = types.SimpleNamespace(store=self.store, config=config)
        return receipt_content(saved, where, language or draft.language, copy=True)

    def payload(self, tracking_id: str) -> ReportIn | None:
        """The report as the central service takes it (docs/ARCHITECTURE.md, HTTP contract).

        Built without validation: the kiosk sends what it holds and the central judges it,
        so a report that breaks the contract comes back ``invalid`` with the field and the
        reason, and the technician sees them on the outbox entry."""
        draft = self.load_draft(tracking_id)
        if draft is None:
            return None
        with self.store.session() as session:
            created_at = session.scalar(select(Report.created_at).where(Report.tracking_id == tracking_id))
        return ReportIn.model_construct(
            tracking_id=tracking_id, kind=ReportKind(draft.kind), category_code=draft.category_code,
            agency_code=draft.agency_code, title=draft.title, description=draft.description,
            incident_date=draft.incident_date, kecamatan_code=draft.kecamatan_code,
            location_text=draft.location_text, reporter_name=draft.reporter_name,
            reporter_phone=draft.reporter_phone, anonymous=draft.anonymous, confidential=draft.confidential,
            language=draft.language, created_at=created_at,
        )

    def count_waiting(self) -> int:
        """Reports not yet confirmed by the central system (failed ones included)."""
        return self.outbox.count_waiting()

    def on_delivered(self, connection: Connection, tracking_ids: list[str]) -> None:
        """The central has these reports: forget the reporters' names and phones, inside
        the outbox's transaction that marks them sent (both or neither)."""
        connection.execute(
            update(Report).where(Report.tracking_id.in_(tracking_ids)).values(reporter_name=None, reporter_phone=None)
        )

    def delete_personal_data(self, tracking_id: str) -> None:
        """Forget name and phone (once the central system has the report)."""
        with self.store.engine.begin() as connection:
            self.on_delivered(connection, [tracking_id])
