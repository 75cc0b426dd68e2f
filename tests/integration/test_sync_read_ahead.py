"""Reading the next batch ahead while the central takes the last one (issue 17, backlog).

The sync worker's thread claims and reads batch N+1 while batch N's POST is in flight.
These tests put a gate between the kiosk and a real central on 127.0.0.1: it holds a
chosen POST until it has seen the kiosk's outbox (a real SQLite file) in the state the
test asks for, then forwards it, or answers as a central that is going away does. What
they hold to: every report arrives once, and a batch read ahead but never tried is
pending again as it was (no attempt counted, due at once) whatever ends the drain."""
from __future__ import annotations

import sqlite3
import threading
import time
from typing import Callable

import pytest
import requests

from kiosk.core.reports import ReportService
from sync_queue.client import CentralClient
from sync_queue.worker import GENTLE_BATCH, SyncWorker
from tests.support.clock import FakeClock
from tests.support.http_double import reply, serving
from tests.support.reports import file_reports

BATCH = 100


def outbox(store) -> dict[str, tuple[str, int]]:
    """Each report's (state, attempts) in the kiosk's outbox."""
    with sqlite3.connect(store.path) as con:
        return {tid: (state, attempts) for tid, state, attempts in
                con.execute("SELECT tracking_id, state, attempts FROM outbox")}


def sending(store) -> int:
    return sum(state == "sending" for state, _ in outbox(store).values())


def central_ids(db_file) -> list[str]:
    with sqlite3.connect(db_file) as con:
        return [r[0] for r in con.execute("SELECT tracking_id FROM reports WHERE kiosk_code = 'MT01'")]


class Gate:
    """Stands in front of the central (:func:`~tests.support.http_double.serving`).
    ``hold(n, until, answer)``: the n-th POST (from 1) waits until ``until()`` is true
    (looked at every 20 ms, at most 20 s; what it found is kept in ``held``), then is
    forwarded, or answered ``answer`` (status, body) without reaching the central."""

    def __init__(self, central: str):
        self.central, self.posts, self.held, self.url = central, 0, {}, ""
        self.rules: dict[int, tuple[Callable[[], bool], tuple[int, bytes] | None]] = {}

    def hold(self, nth: int, until: Callable[[], bool], answer: tuple[int, bytes] | None = None) -> None:
        self.rules[nth] = (until, answer)

    def on_post(self, handler, body: bytes) -> None:
        self.posts += 1
        until, answer = self.rules.get(self.posts, (None, None))
        if until is not None:
            deadline, looked = time.monotonic() + 20, threading.Event()  # never set: a pause between looks
            while not until() and time.monotonic() < deadline:
                looked.wait(0.02)
            self.held[self.posts] = until()
        if answer is None:
            upstream = requests.post(self.central + handler.path, data=body, timeout=30, headers={
                "Authorization": handler.headers["Authorization"], "Content-Type": "application/json"})
            answer = (upstream.status_code, upstream.content)
        reply(handler, answer[0], answer[1], "application/json")


@pytest.fixture
def gate(central):
    opened = Gate(central[0])
    with serving("gate", on_post=opened.on_post) as url:
        opened.url = url
        yield opened


def worker_for(store, clock, gate, token) -> SyncWorker:
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    return SyncWorker(store, service, CentralClient(gate.url, token, timeout=30), now=clock.now,
                      rng=lambda: 0.5, monotonic=clock.monotonic, batch_size=BATCH)


def test_the_next_batch_is_read_while_the_central_takes_the_last_one(central, token, store, gate):
    """GIVEN 250 reports waiting, batches of 100 WHEN the worker drains them as its thread
    does THEN while the first POST is in flight the next 100 are already claimed; the
    last, short batch reads nothing ahead; every report arrives once, ends sent, and
    nothing is left claimed."""
    clock = FakeClock()
    ids = file_reports(store, clock, 250)
    worker = worker_for(store, clock, gate, token)
    gate.hold(1, lambda: sending(store) == 2 * BATCH)
    gate.hold(3, lambda: sending(store) == 50)
    sent = [worker.run_once(read_ahead=True).sent for _ in range(4)]
    assert gate.held == {1: True, 3: True}
    assert sent == [100, 100, 50, 0]
    assert worker.release_ahead() == 0
    assert {state for state, _ in outbox(store).values()} == {"sent"}
    arrived = central_ids(central[2])
    assert set(ids) <= set(arrived) and len(arrived) == len(set(arrived))


def test_a_single_pass_leaves_nothing_claimed_behind_it(central, token, store, gate):
    """GIVEN 150 reports WHEN one pass runs as ``kiosk sync --once`` does THEN 100 are sent
    and the other 50 are pending, untried: nothing stays ``sending`` after the process
    ends (which a technician's ``kiosk queue`` would show as stuck)."""
    clock = FakeClock()
    file_reports(store, clock, 150)
    worker = worker_for(store, clock, gate, token)
    assert worker.run_once().sent == BATCH
    states = sorted(outbox(store).values())
    assert states.count(("pending", 0)) == 50 and states.count(("sent", 1)) == BATCH


def test_when_the_central_goes_away_the_batch_read_ahead_waits_untried(central, token, store, gate):
    """GIVEN 250 reports, the next batch read ahead WHEN the central answers the POST in
    flight with 503 THEN that batch is pending with one attempt, the one read ahead is
    pending as before (no attempt, due at once) and goes first when the central is back;
    every report arrives once."""
    clock = FakeClock()
    ids = file_reports(store, clock, 250)
    worker = worker_for(store, clock, gate, token)
    gate.hold(1, lambda: sending(store) == 2 * BATCH, answer=(503, b'{"detail": "maintenance"}'))
    result = worker.run_once(read_ahead=True)
    assert gate.held == {1: True} and result.online is False and result.sent == 0
    states = [outbox(store)[tid] for tid in ids]
    assert states[:BATCH] == [("pending", 1)] * BATCH
    assert states[BATCH:] == [("pending", 0)] * (250 - BATCH)
    assert worker.run_once(read_ahead=True).sent == BATCH  # due now: the ones never tried
    assert [outbox(store)[tid][0] for tid in ids[BATCH:2 * BATCH]] == ["sent"] * BATCH
    clock.advance(3600)
    while worker.run_once(read_ahead=True).sent:
        pass
    worker.release_ahead()
    assert {state for state, _ in outbox(store).values()} == {"sent"}
    arrived = central_ids(central[2])
    assert set(ids) <= set(arrived) and len(arrived) == len(set(arrived))


def test_a_kiosk_stopping_mid_backlog_leaves_nothing_claimed(central, token, store, gate):
    """GIVEN 350 reports draining on the worker's thread WHEN the kiosk quits while the
    second POST is in flight and the third batch has been read ahead THEN that POST is
    answered and settled, the batch read ahead is pending again, untried, and nothing is
    left ``sending``."""
    clock = FakeClock()
    ids = file_reports(store, clock, 350)
    worker = worker_for(store, clock, gate, token)
    let_go = threading.Event()
    stopping = threading.Thread(target=lambda: (let_go.wait(30), worker.stop()))
    gate.hold(2, lambda: sending(store) == 2 * BATCH and (let_go.set() or worker.stopping))
    stopping.start()
    worker.start()
    stopping.join(60)
    assert not stopping.is_alive() and not worker.alive
    assert gate.held == {2: True} and gate.posts == 2
    states = [outbox(store)[tid] for tid in ids]
    assert states[:2 * BATCH] == [("sent", 1)] * (2 * BATCH)
    assert states[2 * BATCH:] == [("pending", 0)] * (350 - 2 * BATCH)


def test_a_citizen_arriving_gets_a_gentle_batch_even_after_a_full_one_was_read(central, token, store, gate):
    """GIVEN a full batch read ahead while nobody was at the screen WHEN a citizen starts
    using the kiosk THEN the next pass sends only GENTLE_BATCH of it; the rest wait
    untried and go later."""
    clock = FakeClock()
    ids = file_reports(store, clock, 250)
    worker = worker_for(store, clock, gate, token)
    present = [False]
    worker.citizen_present = lambda: present[0]
    gate.hold(1, lambda: sending(store) == 2 * BATCH)
    assert worker.run_once(read_ahead=True).sent == BATCH and gate.held == {1: True}
    present[0] = True
    assert worker.run_once(read_ahead=True).sent == GENTLE_BATCH
    states = [outbox(store)[tid] for tid in ids]
    assert states[:BATCH + GENTLE_BATCH] == [("sent", 1)] * (BATCH + GENTLE_BATCH)
    assert states[BATCH + GENTLE_BATCH:] == [("pending", 0)] * (250 - BATCH - GENTLE_BATCH)
