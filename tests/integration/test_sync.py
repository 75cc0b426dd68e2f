"""The sync worker against a real central service (subprocess on 127.0.0.1), and against
a tiny local server that answers what a bad day looks like (429, 500, nonsense)."""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading

import pytest
import requests

from kiosk.core import reference
from kiosk.core.reports import ReportService
from kiosk.core.sync_tasks import ReferenceRefresh, StatusPull
from kiosk.core.store.db import open_store
from sync_queue.client import CentralClient, CentralUnavailable
from sync_queue.outbox import MAX_DELAY_S, backoff_seconds
from sync_queue.worker import SyncWorker
from tests.support.central import central_cli
from tests.support.clock import FakeClock
from tests.support.http_double import reply, serving
from tests.support.reports import file_reports



def worker_for(store, clock, base_url, token, **kwargs) -> SyncWorker:
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    return SyncWorker(store, service, CentralClient(base_url, token, timeout=5), now=clock.now, rng=lambda: 0.5,
                      monotonic=clock.monotonic, **kwargs)


def states(store) -> dict[str, str]:
    with sqlite3.connect(store.path) as con:
        return dict(con.execute("SELECT tracking_id, state FROM outbox"))


def central_ids(db_file) -> list[str]:
    with sqlite3.connect(db_file) as con:
        return [r[0] for r in con.execute("SELECT tracking_id FROM reports WHERE kiosk_code = 'MT01'")]


def test_reports_arrive_once_and_personal_data_is_forgotten(central, token, store):
    base, _, db_file = central
    clock = FakeClock()
    ids = file_reports(store, clock, 250)
    worker = worker_for(store, clock, base, token, batch_size=100)
    results = [worker.run_once() for _ in range(4)]
    assert [r.sent for r in results] == [100, 100, 50, 0]
    assert set(states(store).values()) == {"sent"}
    arrived = central_ids(db_file)
    assert set(ids) <= set(arrived) and len(arrived) == len(set(arrived))
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    kept = service.load_draft(ids[0])
    assert (kept.reporter_name, kept.reporter_phone) == ("", "") and kept.title == "Antrean 0"
    assert service.count_waiting() == 0


def test_entries_left_sending_by_a_crash_are_resent_without_duplicates(central, token, store):
    """GIVEN a batch the central received but the kiosk never marked (the process died
    between the two) WHEN the worker starts again THEN the entries go back to pending,
    are resent, the central answers duplicate, and they end sent: once on each side."""
    base, _, db_file = central
    clock = FakeClock()
    ids = file_reports(store, clock, 5)
    worker = worker_for(store, clock, base, token)
    claimed = worker.claim()
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    CentralClient(base, token).send_reports([service.payload(t) for t in claimed])  # delivered, then "crash"
    assert set(states(store).values()) == {"sending"}
    assert worker.recover() == 5
    assert worker.run_once().sent == 5
    assert set(states(store).values()) == {"sent"}
    assert sorted(central_ids(db_file)).count(ids[0]) == 1


def test_wrong_token_keeps_reports_waiting_with_the_reason(central, store):
    base, _, _ = central
    clock = FakeClock()
    file_reports(store, clock, 3)
    worker = worker_for(store, clock, base, "wrong-token")
    result = worker.run_once()
    assert result.online is False and "401" in result.error
    with sqlite3.connect(store.path) as con:
        rows = con.execute("SELECT state, attempts, last_error FROM outbox").fetchall()
    assert all(state == "pending" and attempts == 1 and "token" in error for state, attempts, error in rows)
    assert worker.run_once().online is None  # nothing due yet: no busy retry
    clock.advance(backoff_seconds(1, lambda: 0.5) + 0.1)
    assert worker.run_once().online is False  # due again, tried again


def test_a_report_the_central_refuses_is_failed_with_the_reason(central, token, store):
    base, _, _ = central
    clock = FakeClock()
    [bad] = file_reports(store, clock, 1)
    with sqlite3.connect(store.path) as con:  # over the central's limit (the service refuses it: a store kept before)
        con.execute("UPDATE reports SET category_code = ? WHERE tracking_id = ?", ("X" * 70, bad))
    [good] = file_reports(store, clock, 1)
    worker = worker_for(store, clock, base, token)
    result = worker.run_once()
    assert (result.sent, result.failed) == (1, 1)
    with sqlite3.connect(store.path) as con:
        state, error = con.execute("SELECT state, last_error FROM outbox WHERE tracking_id = ?", (bad,)).fetchone()
    assert state == "failed" and error.startswith("invalid: category_code")
    assert states(store)[good] == "sent"


def test_central_down_means_offline_and_a_later_attempt(store):
    clock = FakeClock()
    file_reports(store, clock, 2)
    worker = worker_for(store, clock, "http://127.0.0.1:9", "token")  # nothing listens on port 9
    result = worker.run_once()
    assert result.online is False and worker.online is False
    assert worker.next_due() > clock.now()


class _Scripted:
    """Answers each POST with the next scripted (status, headers, body); ``seen`` holds
    the bodies it was sent."""

    def __init__(self):
        self.script: list = []
        self.seen: list = []

    def on_post(self, handler, body: bytes) -> None:
        self.seen.append(body)
        status, headers, answer = self.script.pop(0)
        headers = dict(headers)
        reply(handler, status, answer, headers.pop("Content-Type", "text/plain"), headers)


@pytest.fixture
def scripted_server():
    scripted = _Scripted()
    with serving("scripted-central", on_post=scripted.on_post) as base:
        yield base, scripted


def test_retry_after_is_honoured(scripted_server, store):
    base, handler = scripted_server
    handler.script = [(429, {"Retry-After": "120"}, b"slow down"), (503, {"Retry-After": "7"}, b"")]
    clock = FakeClock()
    file_reports(store, clock, 1)
    worker = worker_for(store, clock, base, "token")
    worker.run_once()
    assert worker.next_due() == clock.now() + dt.timedelta(seconds=120)
    clock.advance(119)
    assert worker.run_once().online is None and len(handler.seen) == 1  # not before the server said
    clock.advance(1)
    worker.run_once()
    assert len(handler.seen) == 2 and worker.next_due() == clock.now() + dt.timedelta(seconds=7)


def test_server_errors_back_off_exponentially_to_a_cap(scripted_server, store):
    base, handler = scripted_server
    handler.script = [(500, {}, b"oops")] * 12
    clock = FakeClock()
    file_reports(store, clock, 1)
    worker = worker_for(store, clock, base, "token")
    waits = []
    for _ in range(12):
        worker.run_once()
        due = worker.next_due()
        waits.append((due - clock.now()).total_seconds())
        clock.advance(waits[-1])
    assert waits[:4] == [backoff_seconds(n, lambda: 0.5) for n in range(1, 5)]
    assert waits[1] == 2 * waits[0]
    assert max(waits) <= MAX_DELAY_S and waits[-1] == waits[-2]  # capped


def test_nonsense_answer_is_not_taken_as_delivery(scripted_server, store):
    base, handler = scripted_server
    handler.script = [(200, {"Content-Type": "application/json"}, b'{"results": []}')]
    clock = FakeClock()
    file_reports(store, clock, 1)
    worker = worker_for(store, clock, base, "token")
    assert worker.run_once().online is False
    assert set(states(store).values()) == {"pending"}


def test_backoff_has_jitter_and_a_cap():
    low, high = backoff_seconds(3, lambda: 0.0), backoff_seconds(3, lambda: 1.0)
    assert low == 10 and high == 20
    assert backoff_seconds(50, lambda: 1.0) == MAX_DELAY_S


def test_kiosk_sync_once_and_queue_commands(central, token, tmp_path):
    """The technician's commands: ``kiosk queue`` lists what waits, ``kiosk sync --once``
    delivers it and says what happened; the token never appears in their output."""
    import subprocess
    import sys

    from tests.support.servers import ROOT

    base, _, _ = central
    data = tmp_path / "data"
    config = tmp_path / "kiosk.toml"
    config.write_text(f'data_dir = "{data}"\nkiosk_code = "MT01"\ncentral_url = "{base}"\ncentral_token = "{token}"\n')
    store = open_store(data / "kiosk.sqlite3", key_file=data / "secret.key")
    reference.load_seed_if_empty(store)
    ids = file_reports(store, FakeClock(), 3)
    store.close()

    def kiosk(*args):
        return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)

    queue = kiosk("queue")
    assert queue.returncode == 0 and all(t in queue.stdout for t in ids) and "3 waiting" in queue.stdout
    sync = kiosk("sync", "--once")
    assert sync.returncode == 0, sync.stderr
    assert "sent 3, failed 0, waiting 0" in sync.stdout and "heartbeat sent" in sync.stdout
    assert "0 waiting" in kiosk("queue").stdout
    from tests.support.central import central_cli

    fleet = central_cli(central[1], "kiosks", "--json")
    [me] = [k for k in __import__("json").loads(fleet.stdout)["kiosks"] if k["code"] == "MT01"]
    assert me["queue_depth"] == 0 and me["last_sync_age_s"] is not None  # the technician's pass shows up
    for out in (queue, sync):
        assert token not in out.stdout + out.stderr


def test_reference_data_refreshes_only_when_the_central_changed_it(central, token, store):
    from central.db import Database
    from central.service import current_reference, publish_reference

    base, url, _ = central
    refresh = ReferenceRefresh(store, CentralClient(base, token, timeout=5))
    assert refresh.refresh() is True  # first contact: take the central's version
    assert refresh.refresh() is False  # 304: nothing to do
    assert [c.code for c in reference.agency_choices(store, "id", "KESEHATAN") if c.usual] == ["DINKES", "RSUD"]
    db = Database(url)
    try:
        import json

        data = json.loads(current_reference(db)[1])
        data["version"] = "2026-12-01.1"
        data["kecamatan"].append({"code": "KOTA_BARU", "name": "Kecamatan Baru"})
        health = next(c for c in data["categories"] if c["code"] == "KESEHATAN")
        health["usual_agencies"] = ["RSUD"]  # the usual agencies travel with the rest
        publish_reference(db, data)
    finally:
        db.close()
    assert refresh.refresh() is True
    assert "Kecamatan Baru" in [k.label for k in reference.kecamatan(store)]
    assert [c.code for c in reference.agency_choices(store, "en", "KESEHATAN") if c.usual] == ["RSUD"]
    assert reference.load_seed_if_empty(store) is False  # the central's data is never replaced by the seed


def test_status_pull_keeps_what_the_central_says_about_our_reports(central, token, store):
    import json

    base, url, _ = central
    clock = FakeClock()
    ids = file_reports(store, clock, 2)
    worker = worker_for(store, clock, base, token)
    assert worker.run_once().sent == 2
    assert central_cli(url, "report", ids[0], "verify", "--actor", "Rina").returncode == 0
    assert StatusPull(store, worker.client, clock.now).pull() == 2
    with sqlite3.connect(store.path) as con:
        rows = dict(con.execute("SELECT tracking_id, status FROM remote_status"))
        bodies = [json.loads(b) for (b,) in con.execute("SELECT body FROM remote_status")]
    assert rows == {ids[0]: "verified", ids[1]: "received"}
    assert all("Siti Aminah" not in json.dumps(b) for b in bodies)  # public status only


def test_a_status_pull_ends_between_two_requests_when_the_kiosk_quits(central, token, store):
    """GIVEN five delivered reports whose status the kiosk asks the central for, one
    request each WHEN the kiosk is asked to quit after the second answer THEN no third
    request is made (quitting waited for up to 200 of them, seconds against a slow
    central), and what was asked is kept; the next pull asks for the rest."""
    base, _url, _ = central
    clock = FakeClock()
    file_reports(store, clock, 5)
    worker = worker_for(store, clock, base, token)
    assert worker.run_once().sent == 5
    asked: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda answer, *_a, **_k: asked.append(answer.url))
    client = CentralClient(base, token, timeout=5, session=session)
    pull = StatusPull(store, client, clock.now, stopping=lambda: len(asked) >= 2)
    assert pull.pull() == 2 and len(asked) == 2
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT COUNT(*) FROM remote_status").fetchone() == (2,)
    clock.advance(60)
    assert StatusPull(store, client, clock.now).pull() == 5 and len(asked) == 7


def test_a_kiosk_quitting_starts_no_more_housekeeping(store):
    """GIVEN three housekeeping tasks due WHEN the kiosk is asked to quit while the first
    runs THEN the other two do not start (they run at the next start)."""
    from sync_queue.periodic import Schedule

    clock, quitting = FakeClock(), []

    class _Task:
        interval_s, online_only = 0.0, False

        def __init__(self, name):
            self.name, self.runs = name, 0

        def run(self):
            self.runs += 1
            quitting.append(self.name)

    tasks = [_Task("first"), _Task("second"), _Task("third")]
    periodic = Schedule(clock.now, tasks, monotonic=clock.monotonic)
    assert periodic.run_due(online=True, stopping=lambda: bool(quitting)) == 1
    assert [t.runs for t in tasks] == [1, 0, 0]
    assert periodic.run_due(online=True) == 3


# -- periodic tasks beside the delivery loop ---------------------------------------------------
class _Raising:
    """A periodic task that fails every time it runs, the way a bug would."""

    interval_s = 0.0  # due at every idle pass

    def __init__(self, name: str, error: Exception, *, online_only: bool = False):
        self.name, self.error, self.online_only, self.runs = name, error, online_only, 0

    def run(self) -> None:
        self.runs += 1
        raise self.error


class _SeesDelivered:
    """Runs after the raising tasks; sets ``done`` once ``expected`` reports are sent and
    every raising task has raised at least once since ``arm``."""

    name, interval_s, online_only = "sees-delivered", 0.0, False

    def __init__(self, store, raising: list[_Raising]):
        self.store, self.raising = store, raising
        self.done = threading.Event()
        self.arm(0)

    def arm(self, expected: int) -> None:
        self.expected, self.runs_before = expected, [t.runs for t in self.raising]

    def run(self) -> None:
        raised = all(t.runs > before for t, before in zip(self.raising, self.runs_before))
        if raised and list(states(self.store).values()).count("sent") == self.expected:
            self.done.set()


def test_a_periodic_task_that_raises_does_not_stop_deliveries(central, token, store, caplog):
    """GIVEN a running worker whose periodic tasks raise (a bug, a network error, an error
    whose message quotes a citizen) at every idle pass WHEN reports are filed before and
    after THEN all are delivered, the thread goes on, and the log names the error's type,
    never its message."""
    base, _, _ = central
    clock = FakeClock()
    raising = [_Raising("buggy", ValueError("Siti Aminah: Jalan Kenanga 17")),
               _Raising("housekeeping", requests.ConnectionError("Siti Aminah"), online_only=True),
               _Raising("unreachable", CentralUnavailable("no route"))]
    watcher = _SeesDelivered(store, raising)
    file_reports(store, clock, 3)
    worker = worker_for(store, clock, base, token, tasks=[*raising, watcher])
    watcher.arm(3)
    with caplog.at_level(logging.WARNING):
        worker.start()
        try:
            assert watcher.done.wait(30), "the first reports were not delivered"
            watcher.done.clear()
            watcher.arm(5)
            file_reports(store, clock, 2)
            worker.wake()
            assert watcher.done.wait(30), "reports filed after the tasks raised were not delivered"
        finally:
            worker.stop()
    assert set(states(store).values()) == {"sent"}
    assert "buggy crashed" in caplog.text and "ValueError" in caplog.text and "ConnectionError" in caplog.text
    assert "unreachable skipped" in caplog.text
    assert "Siti" not in caplog.text and "Kenanga" not in caplog.text


class _Recording:
    def __init__(self, name: str, interval_s: float, online_only: bool, ran: list[str]):
        self.name, self.interval_s, self.online_only, self.ran = name, interval_s, online_only, ran

    def run(self) -> None:
        self.ran.append(self.name)


def test_housekeeping_waits_while_offline_and_the_heartbeat_does_not(store):
    """GIVEN the reference refresh (hourly, online only) and the heartbeat (every 5 minutes)
    WHEN the worker is offline, then online THEN only the heartbeat runs offline; each runs
    again only when its own period has passed; and only housekeeping that worked counts as
    the central answering (``last_success_at``, the heartbeat's last sync age)."""
    clock = FakeClock()
    ran: list[str] = []
    worker = worker_for(store, clock, "http://127.0.0.1:9", "token",
                        tasks=[_Recording("reference", 3600, True, ran), _Recording("heartbeat", 300, False, ran)])
    assert worker.tasks.run_due(online=False) == 1 and ran == ["heartbeat"]
    assert worker.last_success_at is None
    assert worker.tasks.run_due(online=True) == 1 and ran == ["heartbeat", "reference"]
    assert worker.last_success_at == clock.now()
    assert worker.tasks.run_due(online=True) == 0
    clock.advance(300)
    assert worker.heartbeat_if_due() is True and worker.heartbeat_if_due() is None
    assert worker.send_heartbeat() is True  # `kiosk sync --once`: now, whatever the schedule
    assert ran == ["heartbeat", "reference", "heartbeat", "heartbeat"]
    clock.advance(3300)
    worker.tasks.run_due(online=True)
    assert ran[-2:] == ["reference", "heartbeat"]


def test_while_a_citizen_is_at_the_screen_the_backlog_goes_gently_and_all_of_it(central, token, store):
    """GIVEN 120 reports waiting WHEN a citizen is at the screen THEN a pass sends at most
    GENTLE_BATCH of them (the UI's frames first) and, on the worker's thread, every report
    still arrives once, with a pause after each batch; once the citizen has gone the rest
    go in one batch again."""
    import time

    from sync_queue.worker import GENTLE_BATCH, GENTLE_PAUSE_S

    base, _, db_file = central
    clock = FakeClock()
    ids = file_reports(store, clock, 120)
    worker = worker_for(store, clock, base, token)
    present = [True]
    worker.citizen_present = lambda: present[0]
    assert worker.run_once().sent == GENTLE_BATCH
    present[0] = False
    assert worker.run_once().sent == 120 - GENTLE_BATCH
    assert set(ids) <= set(central_ids(db_file))  # (the module's central holds other tests' reports too)

    more = file_reports(store, clock, 100)
    present[0] = True
    started = time.monotonic()
    worker.start()
    try:
        polled = threading.Event()  # never set: a wait between two looks at the outbox
        while worker.outbox.count_waiting() and time.monotonic() < started + 60:
            polled.wait(0.05)
        took = time.monotonic() - started
    finally:
        worker.stop()
    assert worker.outbox.count_waiting() == 0
    arrived = central_ids(db_file)
    assert set(more) <= set(arrived) and len(arrived) == len(set(arrived))
    assert took >= (100 // GENTLE_BATCH - 1) * GENTLE_PAUSE_S  # four batches, a pause after each of the first three
