"""What the status screen says about a Tracking ID, at any kiosk, online or not.

Asks the central service when one is configured (this may block on the network: callers
run it off the UI thread), falls back to what this kiosk knows, and never reveals more
than LAPOR! shows the reporter.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

from pydantic import ValidationError
from sqlalchemy import select

from kiosk.core import reference
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.i18n import long_date
from kiosk.core.status_text import describe_local_status
from kiosk.kernel.timeline import timeline
from kiosk.kernel.tracking_id import format_tracking_id, kiosk_code_of
from kiosk.kernel.wire import StatusOut
from kiosk.kernel.workdays import NATIONAL, WorkCalendar

log = logging.getLogger(__name__)

#: When an offline kiosk tells the citizen to try again. Each lookup asks the central
#: afresh, so any time after the network is back works; this matches the sync worker's
#: longest wait between tries (its 600 s backoff cap), when the Welcome indicator catches up.
RETRY_AFTER_MIN = 10


@dataclasses.dataclass(frozen=True)
class StatusAnswer:
    """What the kiosk says about one Tracking ID, in the citizen's language: a first line,
    then the status lines that a printed status slip repeats (kept apart, so that nobody
    has to cut the shown text back into lines)."""

    kind: str  # found (central), local (this kiosk only), unknown, offline_unknown
    heading: str
    lines: tuple[str, ...] = ()
    own: bool = False  # issued by this kiosk (it can reprint the receipt)
    #: The newest reply of the office, what the citizen came for: the screen shows it
    #: first and large, under ``reply_heading`` (who answered, when). Its quote stays in
    #: ``lines`` at ``reply_line`` for the printed slip; :attr:`text` leaves it out.
    reply: str = ""
    reply_heading: str = ""
    reply_line: int = -1
    #: What the words were made from, and in which language: told again on a switch.
    facts: "StatusFacts | None" = dataclasses.field(default=None, compare=False, repr=False)
    language: str = ""

    @property
    def text(self) -> str:
        """The rest, one line under the other, as the status screen shows it below the reply."""
        return "\n".join((self.heading, *(line for i, line in enumerate(self.lines) if i != self.reply_line)))


@dataclasses.dataclass(frozen=True)
class _Timeline:
    lines: list[str]
    reply: str = ""  # the newest reply ...
    reply_heading: str = ""  # ... its step and date ("3 Desember 2026: Dijawab oleh ...")
    reply_line: int = -1  # ... and where its quote is in ``lines``


def _timeline_lines(status: StatusOut, language: str, store, calendar: WorkCalendar) -> _Timeline:
    names = {c.code: c.label for c in reference.agencies(store, language)}
    lines, next_text = timeline(status, language, names, calendar=calendar)
    out, newest = [], _Timeline([])
    if status.lapor_number:  # the central forwarded it: the citizen can follow it in LAPOR! too
        out.append(gettext_for(language)("LAPOR! number: {number}").format(number=status.lapor_number))
    for line in lines:
        out.append(f"{line.date}: {line.text}")
        if line.reply:
            out.append(f"    \u201c{line.reply}\u201d")
            newest = _Timeline([], line.reply, out[-2], len(out) - 1)
    if next_text:
        out.append(next_text)
    return dataclasses.replace(newest, lines=out)


def _found(kind: str, heading: str, known: _Timeline, *, before: list[str] = (), own: bool) -> StatusAnswer:
    """An answer with a timeline; ``before``: lines of this kiosk's own that come first."""
    before = list(before)
    at = known.reply_line + len(before) if known.reply else -1
    return StatusAnswer(kind, heading, tuple(before + known.lines), own=own, reply=known.reply,
                        reply_heading=known.reply_heading, reply_line=at)


def remember_remote_status(store, tracking_id: str, status: StatusOut, now: dt.datetime) -> None:
    """Keep what the central said about one of this kiosk's reports, and when.

    No free text in plain at rest: the title is not kept (the status screen never shows
    it), the officers' public replies are sealed with the store's key, and the rest (status
    words, dates, codes) stays readable JSON."""
    from kiosk.core.store.models import RemoteStatus

    replies = [event.public_reply for event in status.events]
    public = status.model_copy(update={
        "title": None,
        "events": [event.model_copy(update={"public_reply": None}) for event in status.events],
    })
    sealed = store.sealer.seal(json.dumps(replies, ensure_ascii=False)) if any(replies) else None
    with store.session() as session, session.begin():
        session.merge(RemoteStatus(tracking_id=tracking_id, status=status.status,
                                   body=public.model_dump_json(), replies=sealed, fetched_at=now))


def _last_known(store, tracking_id: str) -> tuple[StatusOut | None, dt.datetime | None]:
    """What :func:`remember_remote_status` kept (without the title), replies opened again."""
    from kiosk.core.store.crypto import SealError
    from kiosk.core.store.models import RemoteStatus

    with store.session() as session:
        row = session.execute(select(RemoteStatus.body, RemoteStatus.replies, RemoteStatus.fetched_at)
                              .where(RemoteStatus.tracking_id == tracking_id)).first()
    if row is None:
        return None, None
    try:
        status = StatusOut.model_validate_json(row.body)
        if row.replies is not None:
            replies = json.loads(store.sealer.open(row.replies))
            if not isinstance(replies, list) or len(replies) != len(status.events):
                raise ValueError("replies do not match the events")
            status = status.model_copy(update={"events": [
                event.model_copy(update={"public_reply": reply}) for event, reply in zip(status.events, replies)]})
    except (ValidationError, SealError, ValueError) as exc:
        log.warning("last known status unreadable (%s); shown as unknown", type(exc).__name__)
        return None, None
    return status, row.fetched_at


def _elsewhere(tracking_id: str, env, language: str) -> list[str]:
    """Where else the citizen can check a report this kiosk cannot check now: the public
    status page when one is configured, any kiosk that is online otherwise."""
    from kiosk.core.receipt_content import status_url

    _ = gettext_for(language)
    base = env.config.status_base_url
    if base:
        return [_("You can also check it on a phone or computer at:"), status_url(base, tracking_id)]
    return [_("Any LAPOR! kiosk that is online can check it, or ask the staff at the counter.")]


@dataclasses.dataclass(frozen=True)
class StatusFacts:
    """What a lookup found, before it is put into words: the status screen tells it again
    in the other language when the citizen switches, without asking anyone again."""

    tracking_id: str
    local: object | None  # this kiosk's own record of the report (``ReportService.find``)
    remote: StatusOut | None  # what the central answered
    online: bool | None  # whether the central answered; None: no central configured
    known: StatusOut | None = None  # offline: the last status learned from the central ...
    known_at: dt.datetime | None = None  # ... and when
    #: The working days expected dates count: with the kabupaten's own from the central.
    calendar: WorkCalendar = NATIONAL


def gather(tracking_id: str, *, env) -> StatusFacts:
    """Ask the central (this may block on the network) and this kiosk about a valid
    (canonical) Tracking ID; what the central says of this kiosk's own reports is kept."""
    from sync_queue.client import CentralError

    local = env.reports.find(tracking_id)
    remote, online = None, None
    if env.sync is not None:
        try:
            remote, online = env.sync.client.status(tracking_id), True
        except CentralError as exc:
            log.info("status lookup offline: %s", type(exc).__name__)
            online = False
    if remote is not None and local is not None:
        remember_remote_status(env.store, tracking_id, remote, env.now())
    known, known_at = _last_known(env.store, tracking_id) if local is not None and online is False else (None, None)
    return StatusFacts(tracking_id, local, remote, online, known, known_at, reference.work_calendar(env.store))


def look_up(tracking_id: str, *, env, language: str) -> StatusAnswer:
    """The answer for a valid (canonical) Tracking ID."""
    return describe(gather(tracking_id, env=env), env=env, language=language)


def describe(facts: StatusFacts, *, env, language: str) -> StatusAnswer:
    """``facts`` in words of ``language`` (reads only reference names and the config)."""
    answer = _describe(facts, env=env, language=language)
    return dataclasses.replace(answer, facts=facts, language=language)


def _describe(facts: StatusFacts, *, env, language: str) -> StatusAnswer:
    _ = gettext_for(language)
    tracking_id, local, remote, online = facts.tracking_id, facts.local, facts.remote, facts.online
    heading = _("Report {id}").format(id=format_tracking_id(tracking_id))
    if remote is not None:
        return _found("found", heading, _timeline_lines(remote, language, env.store, facts.calendar),
                      own=local is not None)
    if local is not None:
        # Its first sentence (saved on this kiosk, when) heads the answer; the rest is the status.
        first, *lines = describe_local_status(local, language).split("\n")
        if online is False:
            if facts.known:
                learned = facts.known_at.astimezone(LOCAL_TZ)
                lines.append(_("The kiosk is offline. Last known status ({date} {time} WIB):").format(
                    date=long_date(learned.date(), language), time=learned.strftime("%H:%M")))
                return _found("local", first, _timeline_lines(facts.known, language, env.store, facts.calendar),
                              before=lines, own=True)
            lines.append(_("The kiosk is offline, so it cannot ask the central office right now."))
        return StatusAnswer("local", first, tuple(lines), own=True)
    if online is False:
        # A receipt promises "any kiosk": say why not now, when to try again, and where else.
        return StatusAnswer("offline_unknown", _("This kiosk is offline and cannot check this report right now."), (
            _("Please try again in about {minutes} minutes.").format(minutes=RETRY_AFTER_MIN),
            *_elsewhere(tracking_id, env, language)))
    if env.sync is None:
        if kiosk_code_of(tracking_id) != env.config.kiosk_code:
            # Another kiosk's receipt, and this one never asks the central: not "not found".
            return StatusAnswer("offline_unknown", _(
                "This report was made at another kiosk ({code}). This kiosk is not connected to the central "
                "office, so it cannot check reports from other kiosks.").format(code=kiosk_code_of(tracking_id)),
                tuple(_elsewhere(tracking_id, env, language)))
        return StatusAnswer("unknown", _("No report with this number was found on this kiosk."))
    return StatusAnswer("unknown", _("No report with this number was found."))
