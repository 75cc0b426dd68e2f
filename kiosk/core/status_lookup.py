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

from sqlalchemy import select

from kiosk.core import reference
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.i18n import long_date
from kiosk.core.status_text import describe_local_status
from kiosk.kernel.timeline import timeline
from kiosk.kernel.tracking_id import format_tracking_id

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StatusAnswer:
    kind: str  # found (central), local (this kiosk only), unknown, offline_unknown
    text: str
    own: bool = False  # issued by this kiosk (it can reprint the receipt)


def _timeline_text(status: dict, language: str, store) -> str:
    names = {c.code: c.label for c in reference.agencies(store, language)}
    lines, next_text = timeline(status, language, names)
    out = [f"{line.date}: {line.text}" + (f"\n    \u201c{line.reply}\u201d" if line.reply else "") for line in lines]
    if next_text:
        out.append(next_text)
    return "\n".join(out)


def remember_remote_status(store, tracking_id: str, status: dict, now: dt.datetime) -> None:
    """Keep what the central said about one of this kiosk's reports, and when."""
    from kiosk.core.store.models import RemoteStatus

    with store.session() as session, session.begin():
        session.merge(RemoteStatus(tracking_id=tracking_id, status=status["status"],
                                   body=json.dumps(status, ensure_ascii=False), fetched_at=now))


def _last_known(store, tracking_id: str):
    from kiosk.core.store.models import RemoteStatus

    with store.session() as session:
        row = session.scalar(select(RemoteStatus).where(RemoteStatus.tracking_id == tracking_id))
        return (json.loads(row.body), row.fetched_at) if row else (None, None)


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
        return StatusAnswer("found", heading + "\n" + _timeline_text(remote, language, env.store), own=local is not None)
    if local is not None:
        text = describe_local_status(local, language)
        if online is False:
            known, when = _last_known(env.store, tracking_id)
            if known:
                learned = when.astimezone(LOCAL_TZ)
                text += "\n" + _("The kiosk is offline. Last known status ({date} {time} WIB):").format(
                    date=long_date(learned.date(), language), time=learned.strftime("%H:%M"))
                text += "\n" + _timeline_text(known, language, env.store)
            else:
                text += "\n" + _("The kiosk is offline, so it cannot ask the central office right now.")
        return StatusAnswer("local", text, own=True)
    if online is False:
        return StatusAnswer("offline_unknown", _("This kiosk is offline and cannot check this report right now. "
                                                  "Please try again later, or scan the receipt's QR code with a phone."))
    if env.sync is None:
        return StatusAnswer("unknown", _("No report with this number was found on this kiosk."))
    return StatusAnswer("unknown", _("No report with this number was found."))
