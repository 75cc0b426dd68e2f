"""Submitting a report: the report row and its outbox entry in ONE durable transaction."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from kiosk.core.domain import Draft, IncompleteDraft, InvalidDraft, ReportKind, SavedReport, VoiceNote
from kiosk.core.flow import TEXT_FIELDS
from kiosk.core.receipt import ReceiptContent
from kiosk.core.reference import RESERVED_KECAMATAN
from kiosk.core.store.crypto import SealError
from kiosk.core.store.db import MB, CannotKeepReports, Store, StoreError, no_room_reason
from kiosk.core.store.models import Agency, Category, Kecamatan, Report
from kiosk.core.store.models import VoiceNote as VoiceRow
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import LANGUAGES
from kiosk.kernel.textclean import clean_input
from kiosk.kernel.storage import UnreadableRecord
from kiosk.kernel.tracking_id import new_tracking_id
from kiosk.kernel.wire import VOICE_MAX_BYTES, VOICE_MAX_SECONDS, ReportIn, VoiceRef
from sync_queue.outbox import Outbox, OutboxState, voice_of

log = logging.getLogger(__name__)

#: How many fresh Tracking IDs to draw when one already exists (2^-45 each: never twice).
MAX_ID_DRAWS = 5
REQUIRED = ("kind", "category_code", "title", "description", "incident_date", "kecamatan_code")


def _checked_voice(voice: object) -> VoiceNote:
    """A recorded complaint as a report may hold it: Ogg bytes within the central's cap,
    their hash right, a plausible length (:class:`InvalidDraft` ``voice`` otherwise)."""
    if not isinstance(voice, VoiceNote) or not isinstance(voice.ogg, bytes) or not voice.ogg:
        raise InvalidDraft("voice", "expected a recording")
    if len(voice.ogg) > VOICE_MAX_BYTES:
        raise InvalidDraft("voice", f"larger than {VOICE_MAX_BYTES} bytes")
    if hashlib.sha256(voice.ogg).hexdigest() != voice.sha256:
        raise InvalidDraft("voice", "its hash does not match its bytes")
    if not 0 < voice.duration_s <= VOICE_MAX_SECONDS:
        raise InvalidDraft("voice", "implausible length")
    return voice


def checked_draft(draft: Draft, store: Store, today: dt.date) -> Draft:
    """``draft`` as a report may hold it, whoever built it: every text cleaned as the filing
    screen cleans it (``FilingFlow.set_text``: same function, same limits, so text the flow
    cleaned passes unchanged), codes from the reference data, no date after ``today``.

    Raises :class:`IncompleteDraft` for a missing answer (also one that cleaning emptied)
    and :class:`InvalidDraft` for one a report may not hold: text over its limit is
    refused rather than cut, since the citizen never saw the shortened text."""
    texts = {}
    for field, (max_len, multiline) in TEXT_FIELDS.items():
        raw = getattr(draft, field)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise InvalidDraft(field, f"expected text, got {type(raw).__name__}")
        cleaned = clean_input(raw, max_len=max_len, multiline=multiline)
        if cleaned.truncated:
            raise InvalidDraft(field, f"longer than {max_len} characters")
        texts[field] = cleaned.text
    checked = dataclasses.replace(draft, **texts)
    spoken = checked.voice is not None
    if spoken:
        _checked_voice(checked.voice)
    for field in REQUIRED:
        if spoken and field in ("title", "description"):
            continue  # the recording tells it; an empty title is the category's name (below)
        value = getattr(checked, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise IncompleteDraft(field)
    try:
        checked.kind = ReportKind(checked.kind)
    except ValueError:
        raise InvalidDraft("kind", "not a kind of report") from None
    for field in ("anonymous", "confidential", "sms_consent"):
        if not isinstance(getattr(checked, field), bool):
            raise InvalidDraft(field, "expected true or false")
    if checked.sms_consent and not checked.sms_possible:
        # The promise of "anonim" holds whoever built the draft: no SMS without a phone,
        # never one for an anonymous report.
        raise InvalidDraft("sms_consent", "an SMS needs a phone number and a report that is not anonymous")
    if checked.language not in LANGUAGES:
        raise InvalidDraft("language", f"must be one of {', '.join(LANGUAGES)}")
    date = checked.incident_date
    if isinstance(date, dt.datetime) or not isinstance(date, dt.date):
        raise InvalidDraft("incident_date", "expected a date")
    if date > today:
        raise InvalidDraft("incident_date", "in the future")
    with store.session() as session:
        for field, table, optional in (("category_code", Category, False), ("agency_code", Agency, True),
                                       ("kecamatan_code", Kecamatan, False)):
            code = getattr(checked, field)
            if code is None and optional:
                continue
            if table is Kecamatan and code in RESERVED_KECAMATAN:
                continue  # "Don't know" or "Outside": the officer sorts it out
            if not isinstance(code, str) or session.get(table, code) is None:
                raise InvalidDraft(field, "not in the reference data")
        if spoken and not checked.title.strip():
            category = session.get(Category, checked.category_code)
            checked.title = clean_input(category.name_id if checked.language == "id" else category.name_en,
                                        max_len=TEXT_FIELDS["title"][0], multiline=False).text
    return checked


#: The sealed columns of a report, in the order they are opened.
SEALED = ("title", "description", "location_text", "reporter_name", "reporter_phone")


class UnreadableReport(UnreadableRecord, SealError):
    """A report this kiosk holds whose stored text does not open although the store's key
    is right (the store checked it when it opened): damaged at rest. Only this report is
    affected; ``reason`` is the technician's sentence (kept on its outbox entry), and the
    Tracking ID stays known."""

    def __init__(self, tracking_id: str, field: str, cause: str):
        self.tracking_id, self.field = tracking_id, field
        reason = (f"unreadable: its stored {field.replace('_', ' ')} is damaged "
                  "(not the key: the database's key check opens with it)")
        super().__init__(reason, f"report {tracking_id} is {reason} [the sealer: {cause}]")

    def __str__(self) -> str:
        return self.args[1]


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
        """Write the report and its outbox entry together; durable when this returns.

        The service, not only the filing screen, decides what a report may hold
        (:func:`checked_draft`): a draft from anywhere is cleaned and checked first, and the
        cleaned copy is what is kept, printed and sent."""
        draft = checked_draft(draft, self.store, self.clock().astimezone(LOCAL_TZ).date())
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
                        # Written only when agreed; otherwise the column's default (false),
                        # as for every report kept before schema 0008.
                        **({"sms_consent": True} if draft.sms_consent else {}),
                    ))
                    session.flush()  # the report first: the outbox row references it
                    self.outbox.enqueue(session, tracking_id, now)
                    if draft.voice is not None:  # the recording with its report: both or neither
                        session.add(VoiceRow(tracking_id=tracking_id, audio=self.store.sealer.seal_bytes(draft.voice.ogg),
                                             sha256=draft.voice.sha256, duration_s=draft.voice.duration_s,
                                             size=len(draft.voice.ogg)))
                        session.flush()
                        self.outbox.enqueue_voice(session, tracking_id, now)
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
        """What this kiosk holds of a report (the status screen, a reprint); read without
        waiting for the sync worker's write lock."""
        with self.store.reading_session() as session:
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

    def _open_sealed(self, row: Report) -> dict[str, str]:
        """The sealed columns of ``row`` as text; :class:`UnreadableReport` naming the first
        that does not open (name and phone are empty once delivered)."""
        unseal, opened = self.store.sealer.open, {}
        for field in SEALED:
            token = getattr(row, field)
            if token is None and field in ("reporter_name", "reporter_phone"):
                opened[field] = ""
                continue
            try:
                opened[field] = unseal(token)
            except SealError as exc:
                raise UnreadableReport(row.tracking_id, field, str(exc)) from None
        return opened

    def load_draft(self, tracking_id: str) -> Draft | None:
        """The full report as entered (for reprints and sending); None when there is no such
        report. :class:`UnreadableReport` when its stored text is damaged."""
        with self.store.session() as session:
            row = session.get(Report, tracking_id)
            return None if row is None else self._draft(row)

    def _draft(self, row: Report) -> Draft:
        """The report of ``row`` as entered, its sealed text opened (:class:`UnreadableReport`)."""
        text = self._open_sealed(row)
        return Draft(
            kind=ReportKind(row.kind), category_code=row.category_code, agency_code=row.agency_code,
            title=text["title"], description=text["description"], incident_date=row.incident_date,
            kecamatan_code=row.kecamatan_code, location_text=text["location_text"],
            reporter_name=text["reporter_name"], reporter_phone=text["reporter_phone"],
            anonymous=row.anonymous, confidential=row.confidential, sms_consent=row.sms_consent,
            language=row.language,
        )

    def unreadable_reason(self, tracking_id: str) -> str | None:
        """Why this report cannot be read (its stored text is damaged), or None when it can,
        or when there is no such report."""
        try:
            self.load_draft(tracking_id)
        except UnreadableReport as exc:
            return exc.reason
        return None

    def unreadable_ids(self) -> list[str]:
        """The Tracking IDs of every report whose stored text does not open (``kiosk
        doctor`` counts them). Opens each sealed value once: a second or so per 10,000."""
        found = []
        with self.store.session() as session:
            for row in session.scalars(select(Report).order_by(Report.created_at).execution_options(yield_per=500)):
                try:
                    self._open_sealed(row)
                except UnreadableReport:
                    found.append(row.tracking_id)
        return found

    def reprint(self, tracking_id: str, *, config, language: str | None = None) -> ReceiptContent | None:
        """What the printer needs for a copy (marked SALINAN/COPY) of a receipt this kiosk
        issued, in ``language`` (default: the citizen's); None when the report, or its
        details, have left this kiosk, or cannot be read (damaged: logged, and
        :meth:`unreadable_reason` says why). ``config`` gives the institution and status URL.

        The one reprint of the CLI (``kiosk reprint``), the admin screen and the status
        screen; the caller prints it on the printer's thread. Never raises for a damaged
        report: the screens show that nothing can be printed, the CLI says why."""
        import types

        from kiosk.core.receipt_content import receipt_content

        status = self.find(tracking_id)
        try:
            draft = self.load_draft(tracking_id)
        except UnreadableReport as exc:
            log.error("reprint refused: report %s %s", tracking_id, exc.reason)
            return None
        if status is None or draft is None:
            return None
        saved = SavedReport(tracking_id=tracking_id, created_at=status.created_at, draft=draft, kiosk_code=self.kiosk_code)
        # receipt_content reads only the store (category names) and the config of an environment.
        where = types.SimpleNamespace(store=self.store, config=config)
        return receipt_content(saved, where, language or draft.language, copy=True)

    def payload(self, tracking_id: str) -> ReportIn | None:
        """The report as the central service takes it (docs/ARCHITECTURE.md, HTTP contract);
        None when there is no such report; :class:`UnreadableReport` (an
        ``UnreadableRecord``: the worker fails that entry alone) when its text is damaged.

        Built without validation: the kiosk sends what it holds and the central judges it,
        so a report that breaks the contract comes back ``invalid`` with the field and the
        reason, and the technician sees them on the outbox entry."""
        found = self.payloads([tracking_id]).get(tracking_id)
        if isinstance(found, UnreadableReport):
            raise found
        return found

    def payloads(self, tracking_ids: list[str]) -> dict[str, ReportIn | UnreadableReport]:
        """:meth:`payload` of many reports at once (the sync worker's batch): two queries for
        the batch instead of three per report. A report this kiosk does not hold is left
        out; one whose text is damaged maps to its :class:`UnreadableReport`, for the
        worker to fail alone."""
        if not tracking_ids:
            return {}
        found: dict[str, ReportIn | UnreadableReport] = {}
        with self.store.reading_session() as session:  # reads only: a citizen's Send never waits for it
            rows = session.scalars(select(Report).where(Report.tracking_id.in_(tracking_ids))).all()
            voices = {v.tracking_id: v for v in session.execute(
                select(VoiceRow.tracking_id, VoiceRow.sha256, VoiceRow.duration_s)
                .where(VoiceRow.tracking_id.in_(tracking_ids)))}
            for row in rows:
                try:
                    draft = self._draft(row)
                except UnreadableReport as exc:
                    found[row.tracking_id] = exc
                    continue
                voice = voices.get(row.tracking_id)
                extra = {"voice": VoiceRef(sha256=voice.sha256, duration_s=voice.duration_s)} if voice else {}
                found[row.tracking_id] = ReportIn.model_construct(
                    tracking_id=row.tracking_id, kind=ReportKind(draft.kind), category_code=draft.category_code,
                    agency_code=draft.agency_code, title=draft.title, description=draft.description,
                    incident_date=draft.incident_date, kecamatan_code=draft.kecamatan_code,
                    location_text=draft.location_text, reporter_name=draft.reporter_name,
                    reporter_phone=draft.reporter_phone, anonymous=draft.anonymous, confidential=draft.confidential,
                    language=draft.language, created_at=row.created_at, sms_consent=draft.sms_consent, **extra,
                )
        return found

    def voice_payload(self, tracking_id: str) -> tuple[bytes, str] | None:
        """The recorded complaint of ``tracking_id`` as it travels: (Ogg Opus bytes, their
        SHA-256); None when there is none (or it was delivered and forgotten).
        :class:`UnreadableReport` when the stored bytes do not open."""
        with self.store.session() as session:
            row = session.get(VoiceRow, tracking_id)
            if row is None or row.audio is None:
                return None
            try:
                return self.store.sealer.open_bytes(row.audio), row.sha256
            except SealError as exc:
                raise UnreadableReport(tracking_id, "voice recording", str(exc)) from None

    def voice_info(self, tracking_id: str) -> tuple[str, float, bool] | None:
        """(SHA-256, seconds, whether the kiosk still holds the bytes) of a report's
        recording; None when it has none. Never the recording itself."""
        with self.store.session() as session:
            row = session.execute(select(VoiceRow.sha256, VoiceRow.duration_s, VoiceRow.audio.is_not(None))
                                  .where(VoiceRow.tracking_id == tracking_id)).first()
        return None if row is None else (row[0], row[1], bool(row[2]))

    def count_waiting(self) -> int:
        """Reports not yet confirmed by the central system (failed ones included)."""
        return self.outbox.count_waiting()

    def feedback_payload(self, key: str):
        """An objection or rating filed here, as the central takes it (``kiosk.core.feedback``)."""
        from kiosk.core.feedback import FeedbackService

        return FeedbackService(self.store, clock=self.clock).payload(key)

    def on_delivered(self, connection: Connection, tracking_ids: list[str]) -> None:
        """The central has these reports (and objections, ratings: their keys): forget the
        reporters' names and phones and the objections' texts, inside the outbox's
        transaction that marks them sent (both or neither)."""
        from kiosk.core.feedback import FeedbackService

        connection.execute(
            update(Report).where(Report.tracking_id.in_(tracking_ids)).values(reporter_name=None, reporter_phone=None)
        )
        spoken = [tid for tid in map(voice_of, tracking_ids) if tid is not None]
        if spoken:  # the central holds the recording: the kiosk's copy goes (secure_delete overwrites it)
            connection.execute(update(VoiceRow).where(VoiceRow.tracking_id.in_(spoken)).values(audio=None))
        FeedbackService.on_delivered(connection, tracking_ids)

    def delete_personal_data(self, tracking_id: str) -> None:
        """Forget name and phone (once the central system has the report)."""
        with self.store.engine.begin() as connection:
            self.on_delivered(connection, [tracking_id])
