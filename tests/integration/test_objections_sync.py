"""A kiosk's objection and rating travel like reports: a real kiosk store and outbox, the
real sync worker, a real central on 127.0.0.1. Filed offline, sealed at rest, delivered
once when the network is back, a resent delivery not a second objection, the text
forgotten once the central has it."""
from __future__ import annotations

import sqlite3

from kiosk.core.feedback import FeedbackService
from kiosk.core.reports import ReportService
from sync_queue.client import CentralClient
from sync_queue.outbox import Outbox
from sync_queue.worker import SyncWorker
from tests.support.central import central_cli, query
from tests.support.clock import FakeClock
from tests.support.reports import file_reports
from tests.support.servers import free_port

TEXT = "Lampu jalan di depan pasar masih mati"


def worker(store, clock, base: str, token: str) -> SyncWorker:
    return SyncWorker(store, ReportService(store, kiosk_code="MT01", clock=clock.now),
                      CentralClient(base, token, timeout=2), now=clock.now, rng=lambda: 0.5, monotonic=clock.monotonic)


def answered_report(store, clock, base, url, token) -> str:
    [tid] = file_reports(store, clock, 1)
    assert worker(store, clock, base, token).run_once().sent == 1
    for action, *extra in (("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", "Sudah diperbaiki.")):
        assert central_cli(url, "report", tid, action, "--actor", "Budi", *extra).returncode == 0
    return tid


def test_an_objection_filed_offline_arrives_once_when_the_network_is_back(central, token, store):
    base, url, _ = central
    clock = FakeClock()
    tid = answered_report(store, clock, base, url, token)
    feedback = FeedbackService(store, clock=clock.now)
    filed = feedback.object(tid, TEXT + "\x07\n")
    rated = feedback.rate(tid, 2)
    with sqlite3.connect(store.path) as con:  # sealed at rest, like report text
        raw = con.execute("SELECT text FROM feedback WHERE key = ?", (filed.key,)).fetchone()[0]
    assert TEXT.encode() not in raw and b"Lampu" not in raw

    offline = worker(store, clock, f"http://127.0.0.1:{free_port()}", token)
    result = offline.run_once()
    assert result.online is False and result.retried == 2 and result.sent == 0
    assert {e.kind: e.state.value for e in Outbox(store.engine).entries()} == {"objection": "pending", "rating": "pending"}
    assert query(url, "SELECT count(*) FROM objections") == [(0,)]

    clock.advance(700)  # past any backoff
    online = worker(store, clock, base, token)
    assert online.run_once().sent == 2
    assert query(url, "SELECT text, kiosk_code, reopened FROM objections WHERE tracking_id = :t", t=tid) == \
        [(TEXT, "MT01", True)]
    assert query(url, "SELECT score FROM ratings WHERE tracking_id = :t", t=tid) == [(2,)]
    assert query(url, "SELECT status FROM reports WHERE tracking_id = :t", t=tid) == [("in_progress",)]
    with sqlite3.connect(store.path) as con:  # delivered: the text is forgotten, the fact kept
        assert con.execute("SELECT text FROM feedback WHERE key = ?", (filed.key,)).fetchone() == (None,)
    assert [f.kind for f in feedback.filed_since(tid, filed.filed_at)] == ["objection", "rating"]
    assert Outbox(store.engine).count_waiting() == 0 and rated.score == 2


def test_a_delivery_the_kiosk_never_heard_back_about_is_not_a_second_objection(central, token, store):
    base, url, _ = central
    clock = FakeClock()
    tid = answered_report(store, clock, base, url, token)
    feedback = FeedbackService(store, clock=clock.now)
    filed = feedback.object(tid, "")
    sync = worker(store, clock, base, token)
    [key] = sync.claim()
    assert key == filed.key
    CentralClient(base, token).send_feedback([feedback.payload(key)])  # delivered, then the kiosk "crashes"
    assert sync.recover() == 1
    assert sync.run_once().sent == 1  # the central answers duplicate: sent, once
    assert query(url, "SELECT count(*) FROM objections WHERE tracking_id = :t", t=tid) == [(1,)]
    assert query(url, "SELECT count(*) FROM report_events WHERE tracking_id = :t AND status = 'objected'", t=tid) == [(1,)]
    assert query(url, "SELECT status FROM reports WHERE tracking_id = :t", t=tid) == [("in_progress",)]


def test_an_objection_the_central_refuses_waits_for_the_technician(central, token, store):
    base, _, _ = central
    clock = FakeClock()
    [tid] = file_reports(store, clock, 1)  # never answered
    feedback = FeedbackService(store, clock=clock.now)
    feedback.rate(tid, 5)
    result = worker(store, clock, base, token).run_once()  # the report goes, the rating is refused
    assert result.sent == 1 and result.failed == 1
    [entry] = [e for e in Outbox(store.engine).entries() if e.kind == "rating"]
    assert entry.state.value == "failed" and entry.last_error.startswith("invalid: tracking_id")
