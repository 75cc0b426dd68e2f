"""The citizen's answer to the answer at the kiosk (issue 13): an objection ("Masalah belum
selesai", with a short text) or a satisfaction rating (1-5) for an answered report of any
kiosk, kept and sent through the outbox like a report: offline-safe, exactly once.

The feedback row and its outbox entry are written in ONE transaction; the row's key (32 hex
digits) is the idempotency key the central records it under. The objection's text is
citizen text: sealed at rest like a report's, and forgotten once the central has it
(:meth:`FeedbackService.on_delivered`, inside the outbox's transaction).

Only within 10 working days of the answer (:func:`window_open`): after that the central
closes the report by itself and the screen says where to go instead.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from kiosk.core.store.crypto import SealError
from kiosk.core.store.db import CannotKeepReports, Store, StoreError, no_room_reason
from kiosk.core.store.models import Feedback
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.storage import UnreadableRecord
from kiosk.kernel.textclean import clean_input
from kiosk.kernel.wire import OBJECTION_TEXT_MAX, RATING_MAX, RATING_MIN, FeedbackIn
from kiosk.kernel.workdays import DEADLINE_DAYS, NATIONAL, WorkCalendar
from sync_queue.outbox import Outbox

log = logging.getLogger(__name__)


class UnreadableFeedback(UnreadableRecord, SealError):
    """An objection whose stored text does not open: its entry fails alone."""


def window_open(answered_on: dt.date, today: dt.date, calendar: WorkCalendar = NATIONAL) -> bool:
    """May the citizen still object to (or rate) an answer given on ``answered_on``? Until
    the 10th working day after it, the day the central would close the report."""
    return today <= calendar.add_working_days(answered_on, DEADLINE_DAYS["answered"])


@dataclasses.dataclass(frozen=True)
class Filed:
    """What the citizen sent, as the confirmation shows it (never the text)."""

    key: str
    kind: str
    tracking_id: str
    score: int | None
    filed_at: dt.datetime


class FeedbackService:
    """Files objections and ratings, and gives them to the sync worker."""

    def __init__(self, store: Store, *, clock: Callable[[], dt.datetime], key_factory: Callable[[], str] | None = None):
        self.store, self.clock = store, clock
        self.key_factory = key_factory or (lambda: uuid.uuid4().hex)

    def object(self, tracking_id: str, text: str) -> Filed:
        """File an objection with ``text`` (cleaned as any text field, at most 500 characters; may be empty)."""
        cleaned = clean_input(text, max_len=OBJECTION_TEXT_MAX, multiline=True).text.strip()
        return self._file(tracking_id, "objection", text=cleaned)

    def rate(self, tracking_id: str, score: int) -> Filed:
        if not RATING_MIN <= score <= RATING_MAX:
            raise ValueError(f"a rating is from {RATING_MIN} to {RATING_MAX}")
        return self._file(tracking_id, "rating", score=score)

    def _file(self, tracking_id: str, kind: str, *, text: str = "", score: int | None = None) -> Filed:
        problem = self.store.room_problem(0)
        if problem:
            raise CannotKeepReports(f"not saved: {problem}")
        key, now = self.key_factory(), self.clock()
        try:
            with self.store.session() as session, session.begin():
                session.add(Feedback(key=key, kind=kind, tracking_id=tracking_id, score=score,
                                     text=self.store.sealer.seal(text) if kind == "objection" else None, filed_at=now))
                session.flush()  # the row first: the outbox entry references it
                Outbox.enqueue_feedback(session, key, kind, now)
        except SQLAlchemyError as exc:
            reason = no_room_reason(exc)
            if reason:
                raise CannotKeepReports(f"not saved: {reason}") from None
            raise StoreError(f"not saved: {type(getattr(exc, 'orig', exc)).__name__}") from None
        log.info("%s saved and queued", kind)
        return Filed(key, kind, tracking_id, score, now)

    def filed_since(self, tracking_id: str, since: dt.datetime) -> list[Filed]:
        """What this kiosk filed for a report since ``since`` (the answer), oldest first."""
        with self.store.session() as session:
            rows = session.scalars(select(Feedback).where(Feedback.tracking_id == tracking_id, Feedback.filed_at >= since)
                                   .order_by(Feedback.filed_at)).all()
            return [Filed(r.key, r.kind, r.tracking_id, r.score, r.filed_at) for r in rows]

    # -- the sync worker's side ------------------------------------------------------------
    def payload(self, key: str) -> FeedbackIn | None:
        """The item as the central takes it (the central judges it, as with reports)."""
        with self.store.session() as session:
            row = session.get(Feedback, key)
            if row is None:
                return None
            text = ""
            if row.text is not None:
                try:
                    text = self.store.sealer.open(row.text)
                except SealError as exc:
                    raise UnreadableFeedback("the objection's text is damaged", str(exc)) from None
            return FeedbackIn.model_construct(key=row.key, kind=row.kind, tracking_id=row.tracking_id, text=text,
                                              score=row.score, filed_at=row.filed_at)

    @staticmethod
    def on_delivered(connection: Connection, keys: list[str]) -> None:
        """The central has these: forget the objections' texts (inside the outbox's transaction)."""
        connection.execute(update(Feedback).where(Feedback.key.in_(keys)).values(text=None))


def local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(LOCAL_TZ).date()
