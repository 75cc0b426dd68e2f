"""A report's SMS on the workbench (issue 16, docs/SMS.md), without HTTP: the conversation
as an officer may read it, and an admin's reply by SMS queued through the SMS core.

- The conversation is every message that names the report (``sms_messages.tracking_id``:
  the message that filed it, and the CEK messages that asked about it) and every SMS sent
  about it (``sms_outbox.tracking_id``: the replies to those, the answer notice, the admins'
  replies), in time order, the texts opened. Whoever may see the report sees it (its
  content is the report's); a number is given only where the reporter's identity is not
  hidden from the officer (``ReportView.identity_hidden``), and never once the retention
  purge cleared it. A message from, or an SMS to, another number than the reporter's is
  marked so, without that number.
- An admin's reply goes to the number that filed the report, through the gateway that
  message came through, at most 160 GSM-7 characters, never to a number that sent STOP
  or was purged. The form carries a one-time id: the outbox's dedupe key is
  ``admin:<id>``, so a double tap or a form sent again queues one SMS. The outbox row and
  the audit line (``sms_admin_reply``: the gateway, never the number or the text) are one
  transaction.

Nothing here logs a number, a text or a Tracking ID.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central import sms_text
from central.actions import Officer, Refused
from central.crypto import SecretBox, SecretKeyError
from central.db import Database
from central.models import AuditEntry, Report, SmsMessage, SmsOutgoing
from central.sms import FILED, SmsDesk, normalise_number
from central.sms_config import CHANNEL
from central.workbench import ReportView
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

#: The outbox's kind of an admin's reply, and the audit log's event.
ADMIN_KIND = "admin"
AUDIT_EVENT = "sms_admin_reply"
#: The form's one-time id (``uuid.uuid4().hex``): the dedupe key is ``admin:<id>``.
FORM_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclasses.dataclass(frozen=True)
class Line:
    """One SMS of the conversation. ``text`` None: cleared by the retention purge (or
    sealed with a key the central no longer holds: ``unreadable``)."""

    direction: str  # "in" (from a phone) or "out" (from the central)
    kind: str  # in: the message's outcome (filed, status...); out: reply, answered, admin
    at: dt.datetime  # in: when the gateway received it; out: when it was queued
    text: str | None
    own: bool | None  # from (in) or to (out) the reporter's number; False: another; None: not known
    state: str | None = None  # out: pending, sending, sent, failed (``central.sms.State``)
    sent_at: dt.datetime | None = None
    last_reason: str | None = None
    unreadable: bool = False


@dataclasses.dataclass(frozen=True)
class Conversation:
    """A report's SMS as one officer may see them, and whether an admin may reply."""

    lines: list[Line]
    filed_by_sms: bool  # the report came in by SMS (its filing message is in ``lines``)
    number: str | None  # the reporter's number, when this officer may see it and it is kept
    number_purged: bool  # the number was cleared by the retention purge
    gateway: str | None  # the gateway of the filing message
    #: Why an admin may not reply by SMS ("purged", "stopped", "no_gateway", "unavailable"),
    #: None when they may (the page shows the form, or says why not).
    reply_blocked: str | None


def _open(box: SecretBox | None, sealed: str | None) -> tuple[str | None, bool]:
    """(the clear text, unreadable): (None, False) when nothing is kept."""
    if not sealed:
        return None, False
    if box is None:
        return None, True
    try:
        return box.open(sealed), False
    except SecretKeyError:
        return None, True


def conversation(db: Database, box: SecretBox | None, view: ReportView, desk: SmsDesk | None) -> Conversation | None:
    """The SMS about the report ``view`` (already checked as this officer's to see), or None
    when there are none and it was not filed by SMS. ``box`` opens the texts (the
    central's key: the conversation is read even when the SMS channel is off); ``desk``
    (None: no SMS channel) says whether an admin may reply."""
    with db.session() as session:
        messages = session.scalars(select(SmsMessage).where(SmsMessage.tracking_id == view.tracking_id)
                                   .order_by(SmsMessage.received_at, SmsMessage.id)).all()
        outgoing = session.scalars(select(SmsOutgoing).where(SmsOutgoing.tracking_id == view.tracking_id)
                                   .order_by(SmsOutgoing.created_at, SmsOutgoing.id)).all()
        if not messages and not outgoing and view.channel != CHANNEL:
            return None
        filed = next((m for m in messages if m.outcome == FILED), None)
        if filed is not None:
            reporter = _open(box, filed.sender_sealed)[0]
        else:  # a kiosk report whose citizen gave a phone for the answer notice
            reporter = None if view.identity_hidden else str(view.body.get("reporter_phone") or "")
        reporter = normalise_number(reporter) if reporter else None
        purged = filed is not None and (filed.purged_at is not None or not filed.sender_sealed)
        blocked = _blocked(session, desk, filed, reporter, purged)

    def own(sealed: str | None) -> bool | None:
        number = _open(box, sealed)[0]
        return None if reporter is None or not number else normalise_number(number) == reporter

    lines = []
    for m in messages:
        text, unreadable = _open(box, m.text_sealed)
        lines.append((m.received_at, 0, m.id, Line("in", m.outcome, m.received_at, text, own(m.sender_sealed),
                                                   unreadable=unreadable)))
    for o in outgoing:
        text, unreadable = _open(box, o.text_sealed)
        lines.append((o.created_at, 1, o.id, Line("out", o.kind, o.created_at, text, own(o.to_sealed), state=o.state,
                                                  sent_at=o.sent_at, last_reason=o.last_reason, unreadable=unreadable)))
    return Conversation(lines=[line for *_, line in sorted(lines, key=lambda item: item[:3])],
                        filed_by_sms=filed is not None, number=None if view.identity_hidden else reporter,
                        number_purged=purged, gateway=filed.gateway if filed is not None else None,
                        reply_blocked=blocked)


def _blocked(session, desk: SmsDesk | None, filed: SmsMessage | None, number: str | None, purged: bool) -> str | None:
    """Why no admin's SMS can go now (``Conversation.reply_blocked``); the same checks as
    ``queue_admin_reply`` makes when one is posted."""
    if desk is None or filed is None:
        return "unavailable"
    if purged:
        return "purged"
    if not number:
        return "unavailable"
    if filed.gateway not in desk.config.gateways:
        return "no_gateway"
    if desk.opted_out(session, number):
        return "stopped"
    return None


def check_text(text: str) -> str:
    """The admin's SMS as it will be sent (line ends made plain, spaces around it dropped);
    ``Refused("invalid", ...)`` when it is empty, not GSM-7, or longer than one SMS."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise Refused("invalid", "sms_empty")
    if not sms_text.is_gsm7(text):
        raise Refused("invalid", "sms_not_gsm7")
    if sms_text.length(text) > sms_text.GSM7_LIMIT:
        raise Refused("invalid", "sms_too_long")
    return text


def queue_admin_reply(db: Database, officer: Officer, tracking_id: str, text: str, form_id: str, *,
                      address: str, now: dt.datetime | None = None) -> bool:
    """An admin's SMS to the number that filed ``tracking_id``, queued once per ``form_id``:
    True when queued now, False when that form had queued it already. Raises ``Refused``:
    ``role`` (not an admin), ``not_found``, ``invalid`` with the reason (the text; a report
    not filed by SMS or no SMS channel; the number purged or stopped; the gateway gone)."""
    if officer.role != "admin":
        raise Refused("role")
    desk: SmsDesk | None = db.sms
    if not FORM_ID.match(form_id or ""):
        raise Refused("invalid", "other")  # not a form the page gave
    text = check_text(text)
    now = now or utc_now()
    key = f"admin:{form_id}"
    try:
        with db.session() as session, session.begin():
            report = session.get(Report, tracking_id)
            if report is None:
                raise Refused("not_found")
            if session.scalar(select(SmsOutgoing.id).where(SmsOutgoing.dedupe_key == key)) is not None:
                return False
            if desk is None or report.channel != CHANNEL:
                raise Refused("invalid", "sms_unavailable")  # only a report filed by SMS is answered by SMS
            filed = session.scalars(select(SmsMessage).where(SmsMessage.tracking_id == tracking_id,
                                                             SmsMessage.outcome == FILED)
                                    .order_by(SmsMessage.id).limit(1)).first()
            purged = filed is not None and (filed.purged_at is not None or not filed.sender_sealed)
            number = None if filed is None or purged else normalise_number(desk.box.open(filed.sender_sealed))
            blocked = _blocked(session, desk, filed, number, purged)
            if blocked is not None:
                raise Refused("invalid", f"sms_{blocked}")
            desk.queue(session, key, ADMIN_KIND, filed.gateway, number, text, now, tracking_id=tracking_id)
            session.add(AuditEntry(at=now, officer_name=officer.name, event=AUDIT_EVENT, tracking_id=tracking_id,
                                   address=address, detail=f"gateway {filed.gateway}"))
    except IntegrityError:  # the same form posted twice at the same moment: the other post queued it
        return False
    log.info("an admin's SMS reply queued")
    return True
