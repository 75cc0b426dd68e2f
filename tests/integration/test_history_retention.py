"""A kiosk's delivered history goes after ``delivered_retention_days``, on a real store
delivering to a real central (127.0.0.1): reports, recordings, kept statuses, objections
and ratings the central confirmed long ago are deleted; nothing still to be delivered is,
whatever its age; and a kiosk filing and delivering for months keeps its database the
same size."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import sqlite3

import numpy as np
import soundfile

from kiosk.core.domain import VoiceNote
from kiosk.core.feedback import FeedbackService
from kiosk.core.retention import forget_delivered
from tests.support.central import central_cli
from tests.support.clock import FakeClock
from tests.support.reports import file_reports, kiosk_env

DAY = 86_400.0  # seconds


def a_recording() -> VoiceNote:
    samples = (np.random.default_rng(3).normal(0, 3000, 16_000 * 2)).astype("<i2")
    out = io.BytesIO()
    soundfile.write(out, samples, 16_000, format="OGG", subtype="OPUS")
    return VoiceNote(ogg=out.getvalue(), sha256=hashlib.sha256(out.getvalue()).hexdigest(), duration_s=2.0)


def rows(db, table: str, column: str = "tracking_id") -> set:
    with sqlite3.connect(db) as con:
        return {r[0] for r in con.execute(f"SELECT {column} FROM {table}")}  # noqa: S608 - the test's own names


def outbox(db) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute(
            "SELECT coalesce(feedback_key, voice_of || '/voice', tracking_id), state FROM outbox"))


def deliver(env) -> None:
    while env.sync.run_once().sent:
        pass


def test_delivered_history_goes_after_the_retention_and_nothing_waiting_does(central, token, tmp_path):
    """GIVEN a kiosk (retention 30 days) that delivered reports, a spoken one, an objection
    and a rating, and keeps one report the central refused and one it never reached
    WHEN 30 days have not yet passed THEN the hourly task deletes nothing; WHEN they have
    THEN everything delivered is gone from every table but the newest confirmation, and
    what waits stays, however old. The central still answers for the deleted reports."""
    base, _, central_db = central
    clock = FakeClock()
    env = kiosk_env(tmp_path / "data", clock, base, token, delivered_retention_days=30)
    db = env.store.path
    plain = file_reports(env.store, clock, 3)
    [spoken] = file_reports(env.store, clock, 1, voice=a_recording(), description="")
    deliver(env)
    for tid in plain[:2]:  # answered by an officer: the citizen may object or rate
        for step in (("verify",), ("forward", "--agency", "DINKES"), ("answer", "--reply", "Sudah diperbaiki")):
            assert central_cli(f"sqlite:///{central_db}", "report", tid, *step).returncode == 0
    feedback = FeedbackService(env.store, clock=clock.now)
    objection = feedback.object(plain[0], "Lampunya masih mati.").key
    rating = feedback.rate(plain[1], 2).key
    deliver(env)
    assert set(outbox(db).values()) == {"sent"} and spoken + "/voice" in outbox(db)
    clock.advance(5 * DAY)
    [refused] = file_reports(env.store, clock, 1)
    with sqlite3.connect(db) as con:  # over the central's limit: refused for good (a store kept before)
        con.execute("UPDATE reports SET category_code = ? WHERE tracking_id = ?", ("X" * 70, refused))
    deliver(env)
    assert outbox(db)[refused] == "failed"
    [late] = file_reports(env.store, clock, 1)  # the central is never reached again for it
    env.sync.client.base_url = "http://127.0.0.1:9"

    clock.advance(24 * DAY)  # 29 days after the first deliveries
    assert env.sync.tasks.run_now("retention")
    assert rows(db, "reports") == {*plain, spoken, refused, late}

    clock.advance(2 * DAY)
    assert env.sync.tasks.run_now("retention")
    kept = outbox(db)
    assert {refused: "failed", late: "pending"}.items() <= kept.items()
    confirmations = {k for k, state in kept.items() if state == "sent"}
    assert len(confirmations) == 1, "the newest confirmation stays for the heartbeat"
    newest = confirmations.pop()
    assert env.reports.outbox.figures().last_sent_at is not None
    delivered = {*plain, spoken}
    assert rows(db, "reports") & delivered <= {newest}
    assert rows(db, "reports") >= {refused, late}
    assert rows(db, "voice_notes") <= {newest} and rows(db, "remote_status") <= {newest}
    assert rows(db, "feedback", "key") <= {newest} & {objection, rating}
    # The central keeps them all, and still answers a status lookup for each.
    with sqlite3.connect(central_db) as con:
        at_central = {r[0] for r in con.execute("SELECT tracking_id FROM reports")}
    assert delivered <= at_central
    env.close()


def test_a_kiosk_that_files_and_delivers_for_months_keeps_its_database_the_same_size(central, token, tmp_path):
    """Six months of 60 reports a week, each delivered, with a retention of 14 days: after
    the first retention period the database file stops growing."""
    base, _, _ = central
    # Half a year ago: the central judges a report's time by its own clock, never one ahead.
    clock = FakeClock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(weeks=27))
    env = kiosk_env(tmp_path / "data", clock, base, token, delivered_retention_days=14)
    sizes = []
    for _week in range(26):
        file_reports(env.store, clock, 60, incident_date=clock.now().date())
        deliver(env)
        clock.advance(7 * DAY)
        forget_delivered(env.store, clock.now(), 14)
        with sqlite3.connect(env.store.path) as con:  # what the WAL holds, into the file
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes.append(env.store.path.stat().st_size)
    assert len(rows(env.store.path, "reports")) <= 3 * 60
    assert max(sizes[4:]) == sizes[4], f"the database grew after the retention: {sizes}"
    env.close()
