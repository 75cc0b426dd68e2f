"""SMS at the central (issue 16, docs/SMS.md): the core every gateway adapter talks to.

A citizen with any phone files a report ("BARUT <text>"), asks a receipt's status
("CEK <Tracking ID>", or the bare ID), and stops the notices ("STOP"); when a report filed
by SMS, or at a kiosk by a citizen who gave a phone and agreed, is answered, one SMS says
so. The adapters (``central.sms_gammu``, ``central.routers.sms``, ``central.sms_android``)
turn what their gateway hands over into :class:`IncomingSms` for :meth:`SmsDesk.take`,
and send what :meth:`SmsDesk.due` gives them.

- Intake is idempotent: one ``sms_messages`` row per (gateway, message key), so a gateway
  that resends a message for days files one report and queues one reply.
- Every reply and notice is one ``sms_outbox`` row (a unique dedupe key), written in the
  same transaction as what it answers; :class:`SmsDesk` is the only writer of its state.
- Limits per number and per gateway (``central.ratelimit``'s buckets, shared by every
  process): a message over a limit is kept with outcome ``limited``, nothing filed, no
  reply. A number is counted before its gateway, so one number's flood never uses up
  what the gateway allows the others.
- The number is personal data: sealed (``central.crypto.SecretBox``) wherever it is kept,
  found again through a keyed hash (HMAC-SHA256 with a key derived from the central's
  secret key: ``SecretBox.derived``), never logged, and cleared with the texts by the
  retention purge. Nothing here logs a number, a text or a Tracking ID.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import importlib
import json
import logging
import random
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from central import service, sms_text
from central.cli_common import loop
from central.crypto import SecretBox
from central.db import Database
from central.models import Report, ReportEvent, SmsMessage, SmsOptOut, SmsOutgoing
from central.ratelimit import RateLimiter
from central.sms_config import CHANNEL, SmsConfig
from kiosk.kernel.clock import local_date, utc_now
from kiosk.kernel.textclean import clean_input
from kiosk.kernel.tracking_id import TrackingIdError, new_tracking_id, parse_tracking_id
from kiosk.kernel.wire import (CREATED_AT_AHEAD_MAX, CREATED_AT_EARLIEST, DESCRIPTION_MAX, KECAMATAN_UNKNOWN,
                               ReportIn)

log = logging.getLogger(__name__)

T = SmsOutgoing.__table__
M = SmsMessage.__table__

# -- what the adapters and the core exchange (docs/SMS.md, "The contract") ----------------------
FILED, STATUS, STOPPED, HELP, LIMITED, REPEAT = "filed", "status", "stopped", "help", "limited", "repeat"
#: The report an SMS files: no category or agency known, for the officers to sort out.
CATEGORY = "LAINNYA"
#: A report in one of these is done: its messages' numbers and texts are purged
#: ``retention_days`` after its last step.
FINISHED = ("closed", "archived", "rejected")
REASON_MAX = 300
MESSAGE_KEY_MAX = 120


@dataclasses.dataclass(frozen=True)
class IncomingSms:
    gateway: str  # the gateway's name in the SMS file ([gateways.NAME])
    message_id: str  # the gateway's own id of the message ("" when it gives none)
    sender: str  # the number as the gateway gave it (normalised by the core: +62...)
    text: str  # the whole text (a multi-part message joined by the adapter)
    received_at: dt.datetime  # aware; when the gateway received it (else when we did)


@dataclasses.dataclass(frozen=True)
class Taken:
    outcome: str  # "filed", "status", "stopped", "help", "limited", "repeat"
    tracking_id: str | None  # the report filed ("filed") or asked for ("status")
    reply: str | None  # the reply queued (None: none, e.g. "limited", "repeat")


@dataclasses.dataclass(frozen=True)
class Outgoing:
    id: int
    gateway: str
    to: str  # +62... in clear (only in memory, on its way out)
    text: str  # at most 160 GSM-7 characters (or 70 UCS-2)

    def __repr__(self) -> str:  # never the number or the text in a traceback or a log
        return f"Outgoing(id={self.id}, gateway={self.gateway!r})"


#: What may be a phone number in a gateway's own words (an error that quotes the number).
_NUMBER_LIKE = re.compile(r"\+?\d[\d\s().-]{4,}\d")
#: The most of a gateway's words kept as a reason.
GATEWAY_REASON_MAX = 200


def masked(text: str) -> str:
    """A gateway's words (an app's error, what Gammu prints) as a reason may keep them: on
    one line, anything that may be a phone number masked, cut to GATEWAY_REASON_MAX."""
    return _NUMBER_LIKE.sub("[number]", " ".join(text.split()))[:GATEWAY_REASON_MAX]


class NotSent(Exception):
    """A sender could not hand the SMS over: ``retry`` when a later try may work (the
    modem busy, the phone away), False when none will (a number the network refuses).
    ``reason`` is kept on the outbox row: never the number or the text."""

    def __init__(self, reason: str, retry: bool):
        super().__init__(reason)
        self.reason, self.retry = reason, retry


class Sender(Protocol):
    """A push gateway's way out (Gammu's outbox, SMS Gateway for Android's REST call)."""

    def send(self, outgoing: Outgoing) -> None: ...


#: Gateway type -> factory(name, settings) -> Sender, filled by each adapter module when
#: imported (``SENDER_MODULES``); a type without one is pulled by its phone (SMSSync).
SENDERS: dict[str, Callable[[str, Mapping[str, object]], Sender]] = {}
SENDER_MODULES = ("central.sms_gammu", "central.sms_android")


def sender_types() -> tuple[dict[str, Callable], list[str]]:
    """Every sender factory by type, importing the adapter modules; and the modules that
    failed to import (one broken adapter must not hide the others)."""
    broken = []
    for name in SENDER_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:
            broken.append(f"{name} ({type(exc).__name__}: {exc})")
    return dict(SENDERS), broken


class State:
    """The outbox's states (``sms_outbox.state``); only :class:`SmsDesk` writes them."""

    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


# -- reading a message --------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s\-().]")


def normalise_number(raw: str) -> str:
    """``+62...`` for an Indonesian number in its usual spellings (``0812...``,
    ``62812...``, ``+62 812-...``), ``+<digits>`` for another country's; "" when the
    sender is no number a reply can go to (an operator's name, a short code)."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+620"):
        text = "+62" + text[4:]
    if re.fullmatch(r"\+[1-9]\d{6,14}", text):
        return text
    if re.fullmatch(r"0[1-9]\d{6,13}", text):
        return "+62" + text[1:]
    if re.fullmatch(r"62[1-9]\d{6,12}", text):
        return "+" + text
    if re.fullmatch(r"8\d{7,12}", text):
        return "+62" + text
    return ""


_COMMAND = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)(?![A-Za-z0-9])[\s:.,;!#*\-]*(.*)$", re.DOTALL)
_ID_LIKE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\s\-_.]{11,24}$")


@dataclasses.dataclass(frozen=True)
class Command:
    verb: str  # FILED (a report), STATUS, STOPPED, HELP
    rest: str = ""  # the report's text
    tracking_id: str | None = None  # STATUS of a well-formed ID
    mistyped: bool = False  # STATUS of a number with a typing mistake


def _asked(text: str) -> Command:
    try:
        return Command(STATUS, tracking_id=parse_tracking_id(text))
    except TrackingIdError as exc:
        return Command(HELP) if exc.code == "empty" else Command(STATUS, mistyped=True)


def read_command(text: str, config: SmsConfig) -> Command:
    """What a message asks: the keywords tolerant of case, spacing and punctuation after
    them ("barut: ...", "Barut."), the bare Tracking ID, or else help."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    found = _COMMAND.match(text)
    if found:
        word, rest = found.group(1).upper(), found.group(2).strip()
        if word == config.keyword:
            return Command(FILED, rest=rest) if rest else Command(HELP, rest="empty")
        if word == config.check_keyword:
            return _asked(rest)
        if word == config.stop_keyword:
            return Command(STOPPED)
    if text.upper().startswith(config.check_keyword) and _ID_LIKE.match(text[len(config.check_keyword):].strip()):
        return _asked(text[len(config.check_keyword):])  # "CEK0767..." typed without a space
    if _ID_LIKE.match(text) and sum(c.isalnum() for c in text) == 14:
        return _asked(text)  # the bare ID
    return Command(HELP)


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


# -- the desk ----------------------------------------------------------------------------------
class SmsDesk:
    """Takes the gateways' messages, keeps the outbox, queues the answer notices."""

    CLAIM_TTL = dt.timedelta(seconds=120)
    BACKOFF_BASE_S = 30.0
    BACKOFF_CAP_S = 3600.0
    #: Tries of one SMS before it fails for good (about a day with the backoff above).
    MAX_ATTEMPTS = 30

    def __init__(self, db: Database, box: SecretBox, config: SmsConfig, *, rng: random.Random | None = None):
        self.db, self.box, self.config = db, box, config
        self.rng = rng or random.Random()
        self._hash_keys = box.derived("sms-number")
        self._number_limit = RateLimiter(db, "smsnum", per_minute=config.per_number_per_hour / 60.0,
                                         burst=config.per_number_per_hour)
        self._gateway_limit = RateLimiter(db, "smsgw", per_minute=float(config.per_gateway_per_minute),
                                          burst=config.per_gateway_per_minute)

    # -- keyed hashes --------------------------------------------------------------------------
    def number_hash(self, number: str, key: bytes | None = None) -> str:
        """The number's keyed hash (hex): what finds its opt-out and rate limit."""
        return hmac.new(key or self._hash_keys[0], number.encode("utf-8"), hashlib.sha256).hexdigest()

    def _message_key(self, sms: IncomingSms, number: str) -> str:
        """The gateway's id; without one, a keyed digest of (sender, text, second received)."""
        given = (sms.message_id or "").strip()
        if given and len(given) <= MESSAGE_KEY_MAX and given.isprintable():
            return given
        if given:
            return "i:" + hashlib.sha256(given.encode("utf-8")).hexdigest()
        second = _utc(sms.received_at).replace(microsecond=0).isoformat()
        what = "\x00".join((sms.gateway, number or sms.sender, sms.text, second)).encode("utf-8")
        return "h:" + hmac.new(self._hash_keys[0], what, hashlib.sha256).hexdigest()

    def opted_out(self, session, number: str) -> bool:
        """Whether ``number`` sent STOP (found under every key's hash: see ``rehash``)."""
        hashes = [self.number_hash(number, key) for key in self._hash_keys]
        return session.scalar(select(SmsOptOut.number_hash).where(SmsOptOut.number_hash.in_(hashes)).limit(1)) \
            is not None

    # -- intake --------------------------------------------------------------------------------
    def _held(self, gateway: str, key: str, session=None) -> tuple[str | None] | None:
        """``(tracking_id,)`` of the message taken before under ``key``, None for a new one;
        in ``session`` (the transaction that would store it), else in a session of its own."""
        if session is None:
            with self.db.session() as own:
                return self._held(gateway, key, own)
        row = session.execute(select(SmsMessage.tracking_id).where(
            SmsMessage.gateway == gateway, SmsMessage.message_key == key)).first()
        return None if row is None else (row[0],)

    def _allowed(self, connection, hashed: str, gateway: str) -> bool:
        """The number's bucket first: a number over its limit takes nothing from its gateway's.
        In the caller's transaction (``connection``): taken with the message, or not at all."""
        return self._number_limit.take(hashed, connection=connection) == 0 and \
            self._gateway_limit.take(gateway[:64], connection=connection) == 0

    def take(self, sms: IncomingSms, *, now: dt.datetime | None = None) -> Taken:
        """Take one message once: file, answer, stop or help, with its reply queued in the
        same transaction; a message taken before is a ``repeat`` (nothing more is stored)."""
        if sms.gateway not in self.config.gateways:
            raise ValueError(f"no gateway {sms.gateway!r} in the SMS file {self.config.path}")
        now = _utc(now or utc_now())
        number = normalise_number(sms.sender)
        key = self._message_key(sms, number)
        command = read_command(sms.text, self.config)
        if command.verb == FILED and not clean_input(command.rest, max_len=DESCRIPTION_MAX, multiline=True).text.strip():
            command = Command(HELP, rest="empty")  # nothing a report can keep (only emoji, say)
        hashed = self.number_hash(number or sms.sender.strip())
        words = self.config.words
        if command.verb == FILED:
            return self._store(sms, key, number, hashed, now, FILED, report_text=command.rest)
        if command.verb == STATUS:
            if command.mistyped:
                return self._store(sms, key, number, hashed, now, STATUS, reply=sms_text.mistyped(words))
            held = self._held(sms.gateway, key)  # before the public page's reads: a repeat asks nothing
            if held is not None:
                return Taken(REPEAT, held[0], None)
            return self._store(sms, key, number, hashed, now, STATUS, tracking_id=command.tracking_id,
                               reply=self.status_reply(command.tracking_id))
        if command.verb == STOPPED:
            return self._store(sms, key, number, hashed, now, STOPPED, reply=sms_text.stopped(words), stop=True)
        return self._store(sms, key, number, hashed, now, HELP,
                           reply=sms_text.help_text(words, empty=command.rest == "empty"))

    def _report_body(self, text: str, received_at: dt.datetime, now: dt.datetime) -> dict:
        from central.open311_intake import title_of

        description = clean_input(text, max_len=DESCRIPTION_MAX, multiline=True).text.strip()
        created = received_at if CREATED_AT_EARLIEST <= received_at <= now + CREATED_AT_AHEAD_MAX else now
        report = ReportIn(tracking_id=new_tracking_id(self.config.issuer), kind="pengaduan", category_code=CATEGORY,
                          agency_code=None, title=title_of(description) or description[:1], description=description,
                          incident_date=local_date(created), kecamatan_code=KECAMATAN_UNKNOWN, anonymous=False,
                          confidential=False, language="id", created_at=created)
        return report.body()

    def _store(self, sms: IncomingSms, key: str, number: str, hashed: str, now: dt.datetime, outcome: str, *,
               tracking_id: str | None = None, reply: str | None = None, report_text: str | None = None,
               stop: bool = False) -> Taken:
        """The message's row, and what it leads to (its report, its reply, the opt-out), in
        one transaction that first looks for the message (taken before: a ``repeat``, nothing
        more), then takes its rate limits (all but STOP; over one, the row alone, as
        ``limited``). One transaction a message, on SQLite one durable commit, where the
        look-up and the two buckets took one each before. A CEK's answer is read before it
        (the public page's reads open their own sessions). A concurrent take of the same
        message finds the first's row."""
        received = _utc(sms.received_at)
        for _ in range(3):
            done, done_id, answer, body = outcome, tracking_id, reply, None
            if report_text is not None:
                body = self._report_body(report_text, received, now)
                done_id = body["tracking_id"]
                answer = sms_text.filed(done_id, self.config.words)
            try:
                with self.db.session() as session, session.begin():
                    held = self._held(sms.gateway, key, session)
                    if held is not None:
                        return Taken(REPEAT, held[0], None)
                    if not stop and not self._allowed(session.connection(), hashed, sms.gateway):
                        done, done_id, answer, body = LIMITED, None, None, None
                    if body is not None:
                        service.add_report(session, self.config.issuer, body, now, self.db.calendar, channel=CHANNEL,
                                           forwarding=self.db.forwarding)
                    if stop and number:
                        if self.opted_out(session, number):
                            answer = None  # said once already
                        else:
                            session.add(SmsOptOut(number_hash=hashed, number_sealed=self.box.seal(number), at=now))
                    message = SmsMessage(gateway=sms.gateway, message_key=key,
                                         sender_sealed=self.box.seal(number or sms.sender.strip()[:40]),
                                         sender_hash=hashed, text_sealed=self.box.seal(sms.text), received_at=received,
                                         taken_at=now, outcome=done, tracking_id=done_id)
                    session.add(message)
                    session.flush()
                    if answer is not None and number:
                        self.queue(session, f"reply:{message.id}", "reply", sms.gateway, number, answer, now,
                                    tracking_id=done_id, message_id=message.id)
                    else:
                        answer = None  # no number a reply can go to
            except IntegrityError:
                held = self._held(sms.gateway, key)
                if held is not None:
                    return Taken(REPEAT, held[0], None)  # the same message taken at the same moment elsewhere
                continue  # a Tracking ID drawn twice: another one
            if done == LIMITED:
                log.info("an SMS over its number's or gateway's limit: kept, not acted on")
            else:
                log.info("an SMS taken: %s", done)
            return Taken(done, done_id, answer)
        raise RuntimeError("the SMS was neither stored nor found")

    def status_reply(self, tracking_id: str) -> str:
        """The answer to CEK: what the public status page says of the report, shortened."""
        from kiosk.kernel.timeline import expected_date, timeline

        words = self.config.words
        status = service.public_status(self.db, tracking_id)
        if status is None:
            return sms_text.unknown(tracking_id, words)
        _, reference = service.current_reference(self.db)
        agencies = {a["code"]: a["name_id"] for a in json.loads(reference)["agencies"]}
        lines, _ = timeline(status, "id", agencies, calendar=self.db.calendar)
        step = lines[-1].text if lines else status.status
        reply = None if status.confidential or not lines else lines[-1].reply
        return sms_text.status(tracking_id, status.status, step, expected=expected_date(status, calendar=self.db.calendar),
                               reply=reply, confidential=status.confidential, words=words)

    # -- the outbox ----------------------------------------------------------------------------
    def queue(self, session, dedupe_key: str, kind: str, gateway: str, number: str, text: str, now: dt.datetime, *,
              tracking_id: str | None = None, message_id: int | None = None) -> None:
        """One SMS into the outbox, in the caller's transaction: pending, due now, sealed;
        ``dedupe_key`` is unique, so a second queuing of the same one fails the transaction."""
        session.add(SmsOutgoing(dedupe_key=dedupe_key, kind=kind, gateway=gateway, to_sealed=self.box.seal(number),
                                to_hash=self.number_hash(number), text_sealed=self.box.seal(text),
                                tracking_id=tracking_id, message_id=message_id, state=State.PENDING, attempts=0,
                                next_attempt_at=now, created_at=now, updated_at=now))

    def due(self, gateway: str, limit: int, *, now: dt.datetime | None = None) -> list[Outgoing]:
        """Claim up to ``limit`` SMS waiting for ``gateway`` (sending, one attempt more, a
        claim that expires); an expired claim is due again. A notice whose number sent STOP
        since it was queued fails here instead."""
        now = _utc(now or utc_now())
        waiting = and_(T.c.gateway == gateway, or_(and_(T.c.state == State.PENDING, T.c.next_attempt_at <= now),
                                                   and_(T.c.state == State.SENDING, T.c.claim_expires < now)))
        pick = select(T.c.id).where(waiting).order_by(T.c.next_attempt_at, T.c.id).limit(max(1, limit)) \
            .with_for_update(skip_locked=True)
        with self.db.session() as session, session.begin():
            rows = session.execute(update(T).where(T.c.id.in_(pick.scalar_subquery()), waiting).values(
                state=State.SENDING, attempts=T.c.attempts + 1, claim_expires=now + self.CLAIM_TTL, updated_at=now)
                .returning(T.c.id, T.c.kind, T.c.to_sealed, T.c.text_sealed)).all()
            out, stopped = [], []
            for row in sorted(rows, key=lambda r: r.id):
                to = self.box.open(row.to_sealed) if row.to_sealed else ""
                if not to or (row.kind != "reply" and self.opted_out(session, to)):
                    stopped.append(row.id)
                    continue
                out.append(Outgoing(row.id, gateway, to, self.box.open(row.text_sealed)))
            if stopped:
                session.execute(update(T).where(T.c.id.in_(stopped)).values(
                    state=State.FAILED, claim_expires=None, next_attempt_at=None, updated_at=now,
                    last_reason="not sent: the number sent STOP"))
        return out

    def sent(self, outgoing_id: int, *, now: dt.datetime | None = None) -> bool:
        """The gateway took it: sending -> sent, for good. False when it was not sending."""
        now = _utc(now or utc_now())
        with self.db.session() as session, session.begin():
            done = session.execute(update(T).where(T.c.id == outgoing_id, T.c.state == State.SENDING).values(
                state=State.SENT, sent_at=now, claim_expires=None, next_attempt_at=None, last_reason=None,
                updated_at=now)).rowcount
        return done == 1

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: half to all of base * 2^(attempts-1), capped."""
        ceiling = min(self.BACKOFF_CAP_S, self.BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def failed(self, outgoing_id: int, reason: str, *, retry: bool, now: dt.datetime | None = None) -> bool:
        """The gateway did not take it: back to pending after a backoff (``retry``, until
        ``MAX_ATTEMPTS``), else failed for good with the reason. False when it was not sending."""
        now = _utc(now or utc_now())
        reason = " ".join(str(reason).split())[:REASON_MAX] or "not sent"
        with self.db.session() as session, session.begin():
            attempts = session.scalar(select(T.c.attempts).where(T.c.id == outgoing_id, T.c.state == State.SENDING))
            if attempts is None:
                return False
            if retry and attempts < self.MAX_ATTEMPTS:
                values = dict(state=State.PENDING, next_attempt_at=now + dt.timedelta(seconds=self.backoff(attempts)))
            else:
                values = dict(state=State.FAILED, next_attempt_at=None)
                if retry:
                    reason = f"gave up after {attempts} attempts: {reason}"[:REASON_MAX]
            done = session.execute(update(T).where(T.c.id == outgoing_id, T.c.state == State.SENDING).values(
                claim_expires=None, last_reason=reason, updated_at=now, **values)).rowcount
        return done == 1

    # -- the answer notice -------------------------------------------------------------------------
    def notice_answered(self, session, report: Report, now: dt.datetime) -> bool:
        """In the caller's transaction (the report just became answered): queue the one
        notice of its answer, when it was filed by SMS (to its sender, through its gateway)
        or at a kiosk by a citizen who gave a phone and agreed (``sms_consent``); never for
        an anonymous report, never to a number that sent STOP. True when queued now."""
        if report.anonymous:
            return False
        gateway = self.config.notify_gateway
        if report.channel == CHANNEL:
            row = session.execute(select(SmsMessage.sender_sealed, SmsMessage.gateway).where(
                SmsMessage.tracking_id == report.tracking_id, SmsMessage.outcome == FILED)
                .order_by(SmsMessage.id).limit(1)).first()
            if row is None or not row.sender_sealed:
                return False
            number = normalise_number(self.box.open(row.sender_sealed))
            gateway = row.gateway if row.gateway in self.config.gateways else gateway
        else:
            body = json.loads(report.body)
            if body.get("sms_consent") is not True:
                return False
            number = normalise_number(str(body.get("reporter_phone") or ""))
        if not number or gateway is None or self.opted_out(session, number):
            return False
        key = f"answered:{report.tracking_id}"
        if session.scalar(select(T.c.id).where(T.c.dedupe_key == key)) is not None:
            return False  # answered before (an objection, then a new answer): told once
        text = sms_text.answered(report.tracking_id, confidential=report.confidential, words=self.config.words)
        try:
            with session.begin_nested():  # a notice queued meanwhile by another process: the answer still stands
                self.queue(session, key, "answered", gateway, number, text, now, tracking_id=report.tracking_id)
        except IntegrityError:
            return False
        log.info("an answer notice queued by SMS")
        return True

    # -- retention ---------------------------------------------------------------------------------
    def purge(self, *, now: dt.datetime | None = None) -> tuple[int, int]:
        """Clear the numbers and texts of messages whose report is finished (closed,
        archived, rejected) for more than ``retention_days``, and of the other messages
        (CEK, STOP, help, limited) older than that; then of the outbox rows sent or failed
        that belong to them. The rows stay (what happened, when). Returns (messages, SMS)."""
        now = _utc(now or utc_now())
        before = now - dt.timedelta(days=self.config.retention_days)
        last_step = select(func.max(ReportEvent.at)).where(ReportEvent.tracking_id == Report.tracking_id) \
            .scalar_subquery()
        finished = select(Report.tracking_id).where(Report.status.in_(FINISHED), last_step < before)
        old = or_(and_(M.c.outcome == FILED, M.c.tracking_id.in_(finished)),
                  and_(M.c.outcome != FILED, M.c.taken_at < before))
        with self.db.session() as session, session.begin():
            messages = session.execute(update(M).where(M.c.purged_at.is_(None), old).values(
                sender_sealed=None, sender_hash=None, text_sealed=None, purged_at=now)).rowcount
            purged = select(M.c.id).where(M.c.purged_at.is_not(None))
            belongs = or_(T.c.message_id.in_(purged), and_(T.c.message_id.is_(None), T.c.tracking_id.in_(finished)))
            outgoing = session.execute(update(T).where(T.c.state.in_([State.SENT, State.FAILED]),
                                                       T.c.to_sealed.is_not(None), belongs).values(
                to_sealed=None, to_hash=None, text_sealed=None, updated_at=now)).rowcount
        if messages or outgoing:
            log.info("SMS retention: %d messages and %d sent SMS cleared", messages, outgoing)
        return messages, outgoing

    def rehash(self) -> int:
        """Make every opt-out's hash again with the first key (after a new key was put first
        in the key file, before the old one is taken out): the number is opened and sealed
        again. Returns how many changed."""
        changed = 0
        with self.db.session() as session, session.begin():
            for row in session.scalars(select(SmsOptOut).with_for_update()).all():
                number = self.box.open(row.number_sealed)
                fresh = self.number_hash(number)
                if fresh != row.number_hash:
                    session.delete(row)
                    session.flush()
                    session.add(SmsOptOut(number_hash=fresh, number_sealed=self.box.seal(number), at=row.at))
                    changed += 1
        return changed


# -- the push gateways' worker (``python -m central sms send``) -----------------------------------
@dataclasses.dataclass
class SendWorker:
    """One pass: for each configured gateway whose type has a sender, take what is due,
    send it, and settle each SMS by the outcome; once a day the retention purge."""

    desk: SmsDesk
    senders: Mapping[str, Sender]  # gateway name -> its sender
    batch: int = 20
    clock: Callable[[], dt.datetime] = utc_now
    purge_every: dt.timedelta = dt.timedelta(days=1)
    _purged_at: dt.datetime | None = None

    def run_once(self) -> int:
        """One pass over every gateway; the number of SMS handled (0: nothing was due)."""
        handled = 0
        for name, sender in self.senders.items():
            for outgoing in self.desk.due(name, self.batch, now=self.clock()):
                handled += 1
                try:
                    sender.send(outgoing)
                except NotSent as exc:
                    self.desk.failed(outgoing.id, exc.reason, retry=exc.retry, now=self.clock())
                    log.info("SMS %d through %s not sent (%s): %s", outgoing.id, name,
                             "again later" if exc.retry else "failed", exc.reason)
                except Exception as exc:  # a sender's surprise: tried again later, the others go on
                    self.desk.failed(outgoing.id, f"{type(exc).__name__} in the sender", retry=True, now=self.clock())
                    log.error("SMS %d through %s: %s", outgoing.id, name, type(exc).__name__)
                else:
                    self.desk.sent(outgoing.id, now=self.clock())
        now = self.clock()
        if self._purged_at is None or now - self._purged_at >= self.purge_every:
            self._purged_at = now
            self.desk.purge(now=now)
        return handled

    def drain(self) -> int:
        """``--once``: passes until nothing is due now."""
        total = passes = 0
        while (handled := self.run_once()) and passes < 10_000:
            total, passes = total + handled, passes + 1
        return total

    def run(self, stop, poll_interval_s: float) -> None:
        """Until ``stop`` (a threading.Event) is set: a pass, then a wait when nothing was due."""
        log.info("SMS send worker started: %s", ", ".join(self.senders) or "no push gateway")
        loop(self.run_once, stop, poll_interval_s, log=log, what="SMS send")
        log.info("SMS send worker stopped")
