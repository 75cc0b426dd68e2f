"""Exactly once over a bad network: our fault-injecting proxy between kiosk and central
drops, resets and delays connections, and answers 500 (after the central stored the
batch) or 429 + Retry-After. Time between passes is moved by hand, never slept."""
from __future__ import annotations

import sqlite3
from urllib.parse import urlparse

import pytest

from kiosk.core import reference
from kiosk.core.reports import ReportService
from kiosk.core.store.db import open_store
from sync_queue.client import CentralClient
from sync_queue.worker import SyncWorker
from tests.support.clock import FakeClock
from tests.support.fault_proxy import FaultProxy
from tests.support.reports import file_reports


@pytest.fixture
def proxy(central):
    base, _, _ = central
    parsed = urlparse(base)
    weights = {"pass": 0.4, "drop": 0.12, "reset": 0.12, "delay": 0.12, "error_after": 0.12, "rate_limit": 0.12}
    fault = FaultProxy((parsed.hostname, parsed.port), weights, seed=7, delay_s=2.0, retry_after_s=30)
    yield fault
    fault.close()


def retried_already_due(store, clock) -> bool:
    """Is any entry that failed an attempt due again right away (a busy retry)?"""
    from sqlalchemy import select

    from sync_queue.outbox import OutboxEntry

    with store.session() as session:
        due = session.scalars(select(OutboxEntry.next_attempt_at).where(
            OutboxEntry.state == "pending", OutboxEntry.attempts > 0)).all()
    return any(when <= clock.now() for when in due)


def test_every_report_arrives_exactly_once_through_faults(central, token, proxy, tmp_path):
    _, _, db_file = central
    store = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    reference.load_seed_if_empty(store)
    clock = FakeClock()
    ids = file_reports(store, clock, 200)
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    worker = SyncWorker(store, service, CentralClient(proxy.url, token, timeout=1.0), now=clock.now, batch_size=20)
    attempts = idle_passes = 0
    while service.count_waiting() and attempts < 400:
        result = worker.run_once()
        if result.online is None:  # nothing due: move time to the next due entry, no spinning
            idle_passes += 1
            due = worker.next_due()
            assert due is not None and due > clock.now()
            clock.advance((due - clock.now()).total_seconds())
            continue
        attempts += 1
        if result.online is False:
            assert not retried_already_due(store, clock), "a failed batch must wait before it is retried"
    store.close()

    assert service.count_waiting() == 0, f"still waiting after {attempts} attempts"
    faults = {fate: n for fate, n in proxy.counts.items() if fate != "pass" and n}
    assert len(faults) == 5, f"every kind of fault should have happened: {proxy.counts}"
    assert idle_passes <= attempts + 1  # each failure waited once, no busy loop
    with sqlite3.connect(db_file) as con:
        arrived = [r[0] for r in con.execute(
            "SELECT tracking_id FROM reports WHERE tracking_id IN (%s)" % ",".join("?" * len(ids)), ids)]
    assert sorted(arrived) == sorted(ids)
