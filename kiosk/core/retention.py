"""How long a kiosk keeps what it has delivered (``delivered_retention_days``).

Once the central has confirmed a report, the kiosk still keeps it for a while: the
technician may reprint its receipt (``kiosk reprint``) and the status screen shows what
the central last said about it while the network is down. After the retention, the
report goes from the kiosk for good, with everything that hung on it: its outbox entry,
its recording's row and entry, the status the kiosk kept for it; so do objections and
ratings delivered as long ago. The central keeps them all; a kiosk's disk never fills
from its own history.

Nothing still to be delivered is ever deleted (the outbox offers only ``sent`` entries,
and deletes only those: :meth:`sync_queue.outbox.Outbox.forget_sent`), and the newest
sent entry stays, since it says when the central last confirmed something (the heartbeat).
Each batch is one transaction: a crash leaves a report and its entries all there or all gone.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Callable

from sqlalchemy import delete

from kiosk.core.store.db import Store
from kiosk.core.store.models import Feedback, RemoteStatus, Report, VoiceNote
from sync_queue.outbox import Outbox, voice_key

log = logging.getLogger(__name__)

#: How often the kiosk looks for history past its retention.
RETENTION_EVERY_S = 3600.0
#: Entries deleted per transaction: short enough not to hold the writer lock while a
#: citizen files a report.
BATCH = 200


@dataclasses.dataclass
class Forgotten:
    """What one run deleted: reports (with their recordings) and objections or ratings."""

    reports: int = 0
    feedback: int = 0

    def __bool__(self) -> bool:
        return bool(self.reports or self.feedback)


def forget_delivered(store: Store, now: dt.datetime, retention_days: int, *, batch: int = BATCH) -> Forgotten:
    """Delete what the central confirmed more than ``retention_days`` ago (see the module)."""
    cutoff = now - dt.timedelta(days=retention_days)
    done = Forgotten()
    while True:
        with store.engine.begin() as connection:
            offered = Outbox.sent_before(connection, cutoff, batch)
            reports = [key for kind, key in offered if kind == "report"]
            feedback = [key for kind, key in offered if kind in ("objection", "rating")]
            # A report's recording goes with it, even when its upload was confirmed later.
            keys = [key for _kind, key in offered] + [voice_key(tid) for tid in reports]
            Outbox.forget_sent(connection, keys)
            if reports:
                connection.execute(delete(VoiceNote).where(VoiceNote.tracking_id.in_(reports)))
                connection.execute(delete(RemoteStatus).where(RemoteStatus.tracking_id.in_(reports)))
                connection.execute(delete(Report).where(Report.tracking_id.in_(reports)))
            if feedback:
                connection.execute(delete(Feedback).where(Feedback.key.in_(feedback)))
        done.reports += len(reports)
        done.feedback += len(feedback)
        if len(offered) < batch:
            break
    if done:
        log.info("history past %d days deleted: %d reports, %d objections or ratings",
                 retention_days, done.reports, done.feedback)
    return done


class HistoryRetention:
    """:func:`forget_delivered` as a periodic task of the sync worker: it needs no network,
    so it runs while the central is offline too."""

    name = "retention"
    online_only = False

    def __init__(self, store: Store, now: Callable[[], dt.datetime], retention_days: int, *,
                 interval_s: float = RETENTION_EVERY_S):
        self.store, self.now, self.retention_days, self.interval_s = store, now, retention_days, interval_s

    def run(self) -> None:
        forget_delivered(self.store, self.now(), self.retention_days)
