"""Exactly once over a bad network: our fault-injecting proxy between kiosk and central
drops, resets and delays connections, and answers 500 (after the central stored the
batch) or 429 + Retry-After; it also plays a captive portal (200 + a login page), a
firewall (403 + its own page) and a body limit (413). Time between passes is moved by
hand, never slept; a running worker is waited for through a task of its own (``_Watch``)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import random
import sqlite3
import threading
from urllib.parse import urlparse

import pytest

from kiosk.core import reference
from kiosk.core.reports import ReportService
from kiosk.core.store.db import open_store
from kiosk.kernel.wire import ReportBatch
from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from sync_queue.client import NOT_CENTRAL, CentralClient
from sync_queue.worker import SyncWorker
from tests.support.clock import FakeClock
from tests.support.fault_proxy import TOO_LARGE, FaultProxy
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


# -- answers that are not the central's, proxies' limits, the thread that must not die ---------
def proxy_to(central, weights: dict[str, float], **options) -> FaultProxy:
    parsed = urlparse(central[0])
    return FaultProxy((parsed.hostname, parsed.port), weights, **options)


def outbox_rows(store) -> list[tuple[str, str, int, str | None]]:
    with sqlite3.connect(store.path) as con:
        return con.execute("SELECT tracking_id, state, attempts, last_error FROM outbox ORDER BY id").fetchall()


def central_count(db_file, ids: list[str]) -> int:
    with sqlite3.connect(db_file) as con:
        return con.execute("SELECT count(*) FROM reports WHERE tracking_id IN (%s)" % ",".join("?" * len(ids)),
                           ids).fetchone()[0]


class _Watch:
    """A periodic task of the worker itself (due at every idle pass, after the kiosk's own
    tasks): sets ``seen`` once ``condition`` holds, so a test waits for the worker's thread
    to get there, with no sleep and no look from another thread in the middle of a pass."""

    name, interval_s, online_only = "test-watch", 0.0, False

    def __init__(self):
        self.seen = threading.Event()
        self.condition = lambda: False
        self.error: BaseException | None = None

    def until(self, condition) -> threading.Event:
        self.seen.clear()
        self.condition = condition
        return self.seen

    def run(self) -> None:
        try:
            if self.condition():
                self.seen.set()
        except Exception as exc:  # kept for the test's message (the schedule logs only its type)
            self.error = exc
            raise


def kiosk_env(tmp_path, clock, base: str, token: str):
    values = {"data_dir": str(tmp_path / "data"), "kiosk_code": "MT01", "central_url": base, "central_token": token}
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    return build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic)


def test_a_captive_portal_neither_kills_the_worker_nor_passes_for_the_central(central, token, tmp_path, caplog):
    """GIVEN a running kiosk whose way to the central goes through a hotspot that answers
    every request 200 with its login page WHEN reports are filed THEN the sync thread
    stays alive, the reports wait (pending, a technician-readable reason), Welcome says
    offline with the true count, and the heartbeat is tried; WHEN the portal goes away
    THEN everything is delivered once and the heartbeat reaches the central again."""
    _, _, db_file = central
    portal = proxy_to(central, {"html_200": 1})
    clock = FakeClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    env = kiosk_env(tmp_path, clock, portal.url, token)
    worker, watch = env.sync, _Watch()
    worker.add_task(watch)
    ids = file_reports(env.store, clock, 5)
    try:
        with caplog.at_level(logging.INFO):
            tried = watch.until(lambda: all(state == "pending" and attempts >= 1
                                            for _, state, attempts, _ in outbox_rows(env.store))
                                and any(path == "/api/v1/heartbeat" for _, _, path, _ in portal.seen))
            worker.start()
            assert tried.wait(30), f"the worker did not try through the portal ({watch.error!r}, {portal.seen})"
            assert worker.alive and worker.restarts == 0
            assert worker.online is False and worker.connection == "offline"
            assert NOT_CENTRAL in worker.last_error and "text/html" in worker.last_error
            assert all(NOT_CENTRAL in error for *_, error in outbox_rows(env.store))
            assert env.reports.count_waiting() == 5
            assert central_count(db_file, ids) == 0

            portal.set_weights({"pass": 1})
            clock.advance(700)  # past every backoff and the heartbeat's interval
            delivered = watch.until(lambda: {state for _, state, *_ in outbox_rows(env.store)} == {"sent"}
                                    and any(fate == "pass" and path == "/api/v1/heartbeat"
                                            for fate, _, path, _ in portal.seen))
            worker.wake()
            assert delivered.wait(30), f"not delivered after the portal went away ({watch.error!r})"
            assert worker.online is True and worker.connection == "online" and worker.last_error is None
    finally:
        env.close()
        portal.close()
    assert worker.restarts == 0 and env.reports.count_waiting() == 0
    assert central_count(db_file, ids) == 5
    with sqlite3.connect(db_file) as con:
        assert con.execute("SELECT count(*) FROM kiosk_heartbeats WHERE kiosk_code = 'MT01'").fetchone()[0] == 1
    assert "captive portal" in caplog.text and "Siti" not in caplog.text


def test_a_proxy_body_limit_halves_the_batch_until_everything_goes(central, token, store):
    """GIVEN a proxy in front of the central that refuses bodies over about five reports
    with 413 WHEN a batch of 40 waits THEN the kiosk halves its batches until they pass,
    and every report arrives, none failed; later claims stay under the limit."""
    _, _, db_file = central
    clock = FakeClock()
    ids = file_reports(store, clock, 40)
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)

    def size(n: int) -> int:  # the body of a batch of n, as requests sends it
        batch = ReportBatch(reports=[service.payload(t).model_dump(mode="json") for t in ids[:n]])
        return len(json.dumps(batch.model_dump(mode="json")))

    limit = (size(5) + size(6)) // 2
    proxy = proxy_to(central, {"pass": 1}, body_limit=limit)
    worker = SyncWorker(store, service, CentralClient(proxy.url, token, timeout=5), now=clock.now, batch_size=100)
    try:
        result = worker.run_once()
        assert (result.sent, result.failed, result.online) == (40, 0, True)
        assert worker.claim() == []  # nothing left; claims are at most what passed
    finally:
        proxy.close()
    assert {state for _, state, *_ in outbox_rows(store)} == {"sent"}
    assert central_count(db_file, ids) == 40
    assert proxy.counts[TOO_LARGE] == 3  # 40, 20 and 10 refused; then eight batches of 5
    assert all(length <= limit for fate, _, _, length in proxy.seen if fate == "pass")


def test_a_report_too_large_alone_fails_with_the_proxy_limit_as_reason(central, token, store):
    """GIVEN a proxy whose body limit is under one report WHEN it is sent THEN, only once
    it was refused alone, it is failed, and the reason names the proxy's body limit."""
    clock = FakeClock()
    ids = file_reports(store, clock, 2)
    proxy = proxy_to(central, {"pass": 1}, body_limit=100)
    worker = SyncWorker(store, ReportService(store, kiosk_code="MT01", clock=clock.now),
                        CentralClient(proxy.url, token, timeout=5), now=clock.now)
    try:
        result = worker.run_once()
    finally:
        proxy.close()
    assert result.failed == 2 and proxy.counts[TOO_LARGE] == 3  # the pair, then each alone
    for tid, state, _, error in outbox_rows(store):
        assert tid in ids and state == "failed" and "413" in error and "body limit" in error


def test_an_html_403_from_a_firewall_leaves_reports_pending(central, token, store):
    """GIVEN a firewall in front of the central answering 403 with its own HTML page WHEN
    reports are sent THEN they are not failed: pending, tried again after a backoff, with
    a reason a technician understands, and the kiosk counts as offline."""
    clock = FakeClock()
    file_reports(store, clock, 3)
    firewall = proxy_to(central, {"html_403": 1})
    worker = SyncWorker(store, ReportService(store, kiosk_code="MT01", clock=clock.now),
                        CentralClient(firewall.url, token, timeout=5), now=clock.now, rng=lambda: 0.5)
    try:
        result = worker.run_once()
        again = worker.run_once()
    finally:
        firewall.close()
    assert result.online is False and result.failed == 0 and again.online is None  # not before its backoff
    assert worker.online is False and NOT_CENTRAL in worker.last_error and "403" in worker.last_error
    assert worker.next_due() > clock.now()
    for _, state, attempts, error in outbox_rows(store):
        assert state == "pending" and attempts == 1 and NOT_CENTRAL in error and "403" in error


def test_after_an_outage_the_backlog_goes_at_once(central, token, store):
    """GIVEN entries that failed during an outage, due at different times up to minutes
    away WHEN the first pass after the outage reaches the central THEN every waiting
    entry is due at once, and the next pass (no time passing) delivers all of them."""
    _, _, db_file = central
    clock = FakeClock()
    proxy = proxy_to(central, {"reset": 1})
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    worker = SyncWorker(store, service, CentralClient(proxy.url, token, timeout=5), now=clock.now, batch_size=2,
                        rng=random.Random(5).random)
    ids = []

    def offline_pass() -> None:
        clock.advance((worker.next_due() - clock.now()).total_seconds())
        while (result := worker.run_once()).online is not None:
            assert result.online is False

    try:
        for _ in range(7):  # one report at a time, each failing, then the old ones again
            ids += file_reports(store, clock, 1)
            offline_pass()
        for _ in range(20):  # minutes of outage: backoffs grow, each with its own jitter
            offline_pass()
        clock.advance((worker.next_due() - clock.now()).total_seconds())  # the first one is due
        assert central_count(db_file, ids) == 0
        with sqlite3.connect(store.path) as con:
            due = [dt.datetime.fromisoformat(d) for (d,) in con.execute("SELECT next_attempt_at FROM outbox")]
        assert len(set(due)) == 7 and max(due) - min(due) > dt.timedelta(seconds=20), due  # spread out

        proxy.set_weights({"pass": 1})
        first = worker.run_once()
        assert first.online is True and first.sent >= 1
        assert worker.next_due() <= clock.now()  # the rest: due now, not at their backoff
        while worker.run_once().sent:  # no clock.advance: they go at once
            pass
    finally:
        proxy.close()
    assert service.count_waiting() == 0 and central_count(db_file, ids) == 7


class _ExitsOnce:
    """A periodic task in which a library calls ``sys.exit()`` (with a message quoting a
    citizen) the first time: a ``BaseException``, past every ``except Exception``."""

    name, interval_s, online_only = "exits-once", 3600.0, False

    def __init__(self, message: str):
        self.message, self.runs = message, 0

    def run(self) -> None:
        import sys

        self.runs += 1
        if self.runs == 1:
            sys.exit(self.message)


def test_the_supervisor_restarts_a_sync_thread_that_died(central, token, store, caplog):
    """GIVEN a running worker behind a captive portal (every answer garbage) and a periodic
    task that raises SystemExit once WHEN the thread dies of it THEN the supervisor starts
    it again (one restart, the cause logged by type only) and, once the portal is gone,
    every report is delivered."""
    _, _, db_file = central
    clock = FakeClock()
    portal = proxy_to(central, {"html_200": 1})
    watch, exits = _Watch(), _ExitsOnce("Siti Aminah, Jalan Kenanga 17")
    ids = file_reports(store, clock, 3)
    worker = SyncWorker(store, ReportService(store, kiosk_code="MT01", clock=clock.now),
                        CentralClient(portal.url, token, timeout=5), now=clock.now, monotonic=clock.monotonic,
                        tasks=[exits, watch])
    try:
        with caplog.at_level(logging.INFO):
            restarted = watch.until(lambda: worker.restarts == 1)
            worker.start()
            assert restarted.wait(30), "the dead sync thread was not started again"
            assert worker.alive and worker.last_crash == "SystemExit" and exits.runs == 1
            portal.set_weights({"pass": 1})
            clock.advance(700)
            delivered = watch.until(lambda: {state for _, state, *_ in outbox_rows(store)} == {"sent"})
            worker.wake()
            assert delivered.wait(30), "not delivered after the restart"
    finally:
        worker.stop()
        portal.close()
    assert worker.restarts == 1 and not worker.alive
    assert central_count(db_file, ids) == 3
    assert "sync thread died of SystemExit" in caplog.text and "restart 1" in caplog.text
    assert "Siti" not in caplog.text and "Kenanga" not in caplog.text
