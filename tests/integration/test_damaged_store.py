"""A damaged kiosk store, as an outside chaos test left it: one report whose sealed text
was changed by one character, and a database file with 4 KB of garbage in the middle.

The damaged report is set aside alone (failed, with a reason a technician understands,
its Tracking ID kept) and the others are delivered; the technician's own commands tell
the truth about it and never end in a traceback."""
from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading

import pytest

from kiosk.core import reference
from kiosk.core.store.db import open_store
from kiosk.runtime.config import load_config
from tests.support.clock import FakeClock
from tests.support.reports import file_reports
from tests.support.servers import ROOT

GOOD = 30


def kiosk(config_path, *args):
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config_path), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def write_config(tmp_path, **values):
    lines = [f'data_dir = "{tmp_path / "data"}"', 'kiosk_code = "MT01"'] + [f'{k} = "{v}"' for k, v in values.items()]
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def damage_one_character(db_file, tracking_id: str, column: str = "title") -> None:
    """Change one character in the middle of a report's sealed value, as a bad sector or a
    careless edit would: still base64, no longer the token that was sealed."""
    with sqlite3.connect(db_file) as con:
        token = bytearray(con.execute(f"SELECT {column} FROM reports WHERE tracking_id = ?", (tracking_id,)).fetchone()[0])
        middle = len(token) // 2
        token[middle] = ord("A") if token[middle] != ord("A") else ord("B")
        con.execute(f"UPDATE reports SET {column} = ? WHERE tracking_id = ?", (bytes(token), tracking_id))
    con.close()


@pytest.fixture
def poisoned(tmp_path, central, token):
    """A kiosk data directory with 31 reports waiting, the 16th damaged; (config file, config, ids, poisoned id)."""
    base, _, _ = central
    path = write_config(tmp_path, central_url=base, central_token=token)
    config = load_config(path, environ={})
    store = open_store(config.database_file, key_file=config.key_path)
    reference.load_seed_if_empty(store)
    ids = file_reports(store, FakeClock(), GOOD + 1)
    store.close()
    bad = ids[GOOD // 2]
    damage_one_character(config.database_file, bad)
    return path, config, ids, bad


def central_has(db_file) -> set[str]:
    with sqlite3.connect(db_file) as con:
        found = {r[0] for r in con.execute("SELECT tracking_id FROM reports WHERE kiosk_code = 'MT01'")}
    con.close()
    return found


def outbox(config) -> dict[str, tuple[str, int, str | None]]:
    with sqlite3.connect(config.database_file) as con:
        rows = {r[0]: (r[1], r[2], r[3]) for r in con.execute("SELECT tracking_id, state, attempts, last_error FROM outbox")}
    con.close()
    return rows


def test_sync_once_delivers_the_good_reports_and_sets_the_damaged_one_aside(poisoned, central):
    """GIVEN 31 reports waiting, one with one character of its sealed title changed
    WHEN the technician runs `kiosk sync --once`, `kiosk queue`, `kiosk doctor`, `kiosk reprint`
    THEN the 30 others reach the central; the damaged one is failed with a reason that
    says its text is damaged and not the key; doctor fails and counts it; reprint says so;
    no command prints a traceback."""
    path, config, ids, bad = poisoned
    _, _, central_db = central

    run = kiosk(path, "sync", "--once")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert f"sent {GOOD}, failed 1" in run.stdout
    assert set(ids) - {bad} <= central_has(central_db) and bad not in central_has(central_db)

    entries = outbox(config)
    assert entries[bad][0] == "failed" and entries[bad][1] == 1
    assert "unreadable" in entries[bad][2] and "damaged" in entries[bad][2] and "not the key" in entries[bad][2]
    assert {state for tid, (state, _, _) in entries.items() if tid != bad} == {"sent"}

    queue = kiosk(path, "queue")
    line = next(line for line in queue.stdout.splitlines() if line.startswith(bad))
    assert "failed" in line and "unreadable: its stored title is damaged" in line

    doctor = kiosk(path, "doctor", "--json")
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    database = {c["check"]: c for c in json.loads(doctor.stdout)}["database"]
    assert not database["ok"] and "1 unreadable report" in database["detail"]
    assert "quick check ok" in database["detail"] and "Tracking ID" in database["fix"]

    reprint = kiosk(path, "reprint", bad)
    assert reprint.returncode not in (0, None)
    assert "Traceback" not in reprint.stdout + reprint.stderr
    assert f"report {bad} cannot be reprinted: unreadable" in reprint.stderr
    good_copy = kiosk(path, "reprint", ids[0])
    assert good_copy.returncode == 0, good_copy.stdout + good_copy.stderr


class _PassWatch(logging.Handler):
    """Counts what the worker's passes settled, and says when ``expected`` were."""

    def __init__(self, expected: int):
        super().__init__()
        self.expected, self.settled, self.crashed = expected, 0, []
        self.done = threading.Event()

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("sync pass crashed"):
            self.crashed.append(message)
            self.done.set()
        elif message.startswith("sync pass:"):
            sent, failed = (int(word) for word in message.replace(",", "").split() if word.isdigit())
            self.settled += sent + failed
            if self.settled >= self.expected:
                self.done.set()


def test_the_worker_thread_sets_the_damaged_report_aside_and_delivers_the_rest(poisoned, central):
    """The same through the running kiosk's own worker thread: no pass crashes, nothing
    stays `sending`, the central gets the 30."""
    from kiosk.runtime.env import build_env

    _, config, ids, bad = poisoned
    _, _, central_db = central
    watch = _PassWatch(GOOD + 1)
    logger = logging.getLogger("sync_queue.worker")
    logger.addHandler(watch)
    # setLevel, not the attribute: logging caches each logger's "is INFO on?" answer, and
    # only setLevel clears it (a worker that logged before, at WARNING, kept it False).
    level = logger.level
    logger.setLevel(logging.INFO)
    env = build_env(config)
    try:
        env.sync.start()
        assert watch.done.wait(60), "the worker settled nothing"
        assert env.reports.find(bad) is not None  # its Tracking ID stays known
    finally:
        env.close()
        logger.removeHandler(watch)
        logger.setLevel(level)
    assert watch.crashed == []
    entries = outbox(config)
    assert entries[bad][0] == "failed" and "unreadable" in entries[bad][2]
    assert {state for tid, (state, _, _) in entries.items() if tid != bad} == {"sent"}
    assert set(ids) - {bad} <= central_has(central_db)


def test_doctor_fails_on_a_database_with_garbage_in_the_middle(tmp_path):
    """GIVEN a database file with 4 KB of garbage written over its middle page(s)
    WHEN the technician runs `kiosk doctor` THEN the database check fails with SQLite's
    quick check and a sentence saying what to do, and nothing crashes."""
    path = write_config(tmp_path)
    config = load_config(path, environ={})
    store = open_store(config.database_file, key_file=config.key_path)
    reference.load_seed_if_empty(store)
    file_reports(store, FakeClock(), 40)
    store.close()
    with sqlite3.connect(config.database_file) as con:
        page_size, pages = con.execute("PRAGMA page_size").fetchone()[0], con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    assert pages >= 4
    with open(config.database_file, "r+b") as fh:
        fh.seek((pages // 2) * page_size)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(4096)))
    con = sqlite3.connect(config.database_file)
    try:  # SQLite itself sees the damage: errors listed, or the check cannot even run
        assert con.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError as exc:
        assert "malformed" in str(exc)
    finally:
        con.close()

    run = kiosk(path, "doctor")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "[FAIL] database" in run.stdout
    assert "quick check found damage" in run.stdout and "the database file is damaged" in run.stdout


def test_what_the_admin_and_status_screens_ask_answers_for_a_damaged_report(env):
    """The admin screen's checks, the status screen's lookup and both screens' reprint
    are answered for a damaged report (no exception reaches a screen): the checks count it,
    the lookup finds it by its Tracking ID, the reprint has nothing to print."""
    from kiosk.core.status_lookup import look_up
    from kiosk.runtime.technician import env_checks

    reference.load_seed_if_empty(env.store)
    ids = file_reports(env.store, FakeClock(), 3)
    damage_one_character(env.store.path, ids[1], column="description")
    rows = {name: (ok, detail, fix) for name, ok, detail, fix in env.background.submit(lambda: env_checks(env)).result(60)}
    ok, detail, fix = rows["database"]
    assert not ok and "1 unreadable report" in detail and "quick check ok" in detail
    assert look_up(ids[1], env=env, language="id").kind == "local"
    assert env.reports.reprint(ids[1], config=env.config) is None
    assert env.reports.unreadable_reason(ids[1]).startswith("unreadable: its stored description is damaged")
    assert env.reports.reprint(ids[0], config=env.config) is not None
