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
from kiosk.kernel.tracking_id import format_tracking_id
from kiosk.kernel.wire import StatusOut

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StatusAnswer:
    """What the kiosk says about one Tracking ID, in the citizen's language: a first line,
    then the status lines that a printed status slip repeats (kept apart, so that nobody
    has to cut the shown text back into lines)."""

    kind: str  # found (central), local (this kiosk only), unknown, offline_unknown
    heading: str
    lines: tuple[str, ...] = ()
    own: bool = False  # issued by this kiosk (it can reprint the receipt)

    @property
    def text(self) -> str:
        """All of it, one line under the other, as the status screen shows it."""
        return "\n".join((self.heading, *self.lines))


def _timeline_lines(status: StatusOut, language: str, store) -> list[str]:
    names = {c.code: c.label for c in reference.agencies(store, language)}
    lines, next_text = timeline(status, language, names)
    out = []
    for line in lines:
        out.append(f"{line.date}: {line.text}")
        if line.reply:
            out.append(f"    \u201c{line.reply}\u201d")
    if next_text:
        out.append(next_text)
    return out


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


def look_up(tracking_id: str, *, env, language: str) -> StatusAnswer:
    """The answer for a valid (canonical) Tracking ID."""
    from sync_queue.client import CentralError

    _ = gettext_for(language)
    local = env.reports.find(tracking_id)
    remote, online = None, None
    if env.sync is not None:
        try:
            remote, online = env.sync.client.status(tracking_id), True
        except CentralError as exc:
            log.info("status lookup offline: %s", type(exc).__name__)
            online = False
    heading = _("Report {id}").format(id=format_tracking_id(tracking_id))
    if remote is not None:
        if local is not None:
            remember_remote_status(env.store, tracking_id, remote, env.now())
        return StatusAnswer("found", heading, tuple(_timeline_lines(remote, language, env.store)), own=local is not None)
    if local is not None:
        # Its first sentence (saved on this kiosk, when) heads the answer; the rest is the status.
        first, *lines = describe_local_status(local, language).split("\n")
        if online is False:
            known, when = _last_known(env.store, tracking_id)
            if known:
                learned = when.astimezone(LOCAL_TZ)
                lines.append(_("The kiosk is offline. Last known status ({date} {time} WIB):").format(
                    date=long_date(learned.date(), language), time=learned.strftime("%H:%M")))
                lines.extend(_timeline_lines(known, language, env.store))
            else:
                lines.append(_("The kiosk is offline, so it cannot ask the central office right now."))
        return StatusAnswer("local", first, tuple(lines), own=True)
    if online is False:
        return StatusAnswer("offline_unknown", _("This kiosk is offline and cannot check this report right now. "
                                                  "Please try again later, or scan the receipt's QR code with a phone."))
    if env.sync is None:
        return StatusAnswer("unknown", _("No report with this number was found on this kiosk."))
    return StatusAnswer("unknown", _("No report with this number was found."))
