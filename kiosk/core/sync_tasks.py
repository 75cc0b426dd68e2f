"""The kiosk's housekeeping with the central, as periodic tasks of the sync worker
(:mod:`sync_queue.periodic`): fetch reference data when the central's version changed,
and pull what the central says about this kiosk's delivered, unfinished reports.

Both talk to the central, so both run only while it is not known to be offline; a
failure (the central unreachable, a bad answer) is the worker's to log, and the kiosk
keeps what it has.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from sqlalchemy import select

from kiosk.core import reference
from kiosk.core.retention import HistoryRetention
from kiosk.core.status_lookup import remember_remote_status
from kiosk.core.store.db import Store
from kiosk.core.store.models import Meta, RemoteStatus, Report
from sync_queue.client import CentralClient
from sync_queue.outbox import Outbox
from sync_queue.periodic import PeriodicTask

log = logging.getLogger(__name__)

REFERENCE_EVERY_S = 3600.0
STATUS_EVERY_S = 900.0
#: Reports whose status is pulled in one run.
STATUS_PULL_LIMIT = 200
#: Statuses after which a report no longer changes: not pulled again.
FINAL_STATUSES = ("closed", "rejected", "archived")
#: ``meta`` key of the reference data version the kiosk holds.
REFERENCE_ETAG = "reference_etag"


class ReferenceRefresh:
    """Categories, agencies, kecamatan and the kabupaten's calendar days, fetched again when
    the central's ETag changed."""

    name = "reference"
    online_only = True

    def __init__(self, store: Store, client: CentralClient, *, interval_s: float = REFERENCE_EVERY_S):
        self.store, self.client, self.interval_s = store, client, interval_s

    def refresh(self) -> bool:
        """True when new data was stored; the kiosk keeps what it has when the central's
        copy is the same (304) or unusable. Network errors are raised (``CentralError``)."""
        with self.store.session() as session:
            etag = session.scalar(select(Meta.value).where(Meta.key == REFERENCE_ETAG))
        fetched = self.client.reference(etag)
        if fetched is None:
            return False
        new_etag, data = fetched
        try:
            reference.replace_reference_data(self.store, data)
        except reference.ReferenceDataError as exc:
            log.error("central sent unusable reference data: %s", exc)
            return False
        with self.store.session() as session, session.begin():
            session.merge(Meta(key=REFERENCE_ETAG, value=new_etag))
        return True

    def run(self) -> None:
        self.refresh()


class StatusPull:
    """What the central says about this kiosk's delivered reports that may still change,
    least recently asked first, kept for the status screen when the kiosk is offline."""

    name = "status"
    online_only = True

    def __init__(self, store: Store, client: CentralClient, now: Callable[[], dt.datetime], *,
                 interval_s: float = STATUS_EVERY_S, limit: int = STATUS_PULL_LIMIT,
                 stopping: Callable[[], bool] = lambda: False):
        self.store, self.client, self.now = store, client, now
        self.interval_s, self.limit = interval_s, limit
        self.stopping = stopping  # the kiosk is quitting: the rest waits for the next run

    def pull(self) -> int:
        """How many statuses were refreshed (the central may not know some yet)."""
        with self.store.session() as session:
            ids = session.scalars(
                select(Report.tracking_id)
                .outerjoin(RemoteStatus, RemoteStatus.tracking_id == Report.tracking_id)
                .where(Report.tracking_id.in_(Outbox.sent_ids()))
                .where((RemoteStatus.status.is_(None)) | (RemoteStatus.status.not_in(FINAL_STATUSES)))
                .order_by(RemoteStatus.fetched_at.is_not(None), RemoteStatus.fetched_at)
                .limit(self.limit)
            ).all()
        pulled = 0
        for tid in ids:
            if self.stopping():
                break
            found = self.client.status(tid)
            if found is None:
                continue
            remember_remote_status(self.store, tid, found, self.now())
            pulled += 1
        return pulled

    def run(self) -> None:
        self.pull()


def housekeeping_tasks(store: Store, client: CentralClient, now: Callable[[], dt.datetime], *,
                       retention_days: int, stopping: Callable[[], bool] = lambda: False) -> list[PeriodicTask]:
    """The kiosk core's periodic tasks, in the order the worker runs them; delivered
    history goes after ``retention_days`` (:mod:`kiosk.core.retention`). ``stopping()``
    true (the kiosk is quitting) ends the status pull between two of its requests."""
    return [ReferenceRefresh(store, client), StatusPull(store, client, now, stopping=stopping),
            HistoryRetention(store, now, retention_days)]
