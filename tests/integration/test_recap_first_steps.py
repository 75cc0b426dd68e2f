"""Each report's first verification, forwarding, answer and close, kept on its row (c0008)
so that the recap of a year reads one index: set by the officers' real actions, the
citizen's objection and the automatic close, never moved by a later step (a re-route, a
second answer after an objection, a verification after a postponement), followed by a
duplicate; and back-filled from the status events of a database made at c0007. On SQLite
and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import insert, inspect, select

from central import actions, feedback, recap, service
from central.db import Database, migrate
from central.models import Kiosk, Report, ReportEvent
from kiosk.kernel.clock import LOCAL_TZ, utc_now
from kiosk.kernel.wire import FeedbackIn
from tests.support import servers
from tests.support.central import alembic, query, report

ADMIN = actions.ApiOfficer("Admin Rina", "admin", None)
DINKES = actions.ApiOfficer("Budi Dinkes", "agency", "DINKES")
DISDIK = actions.ApiOfficer("Sari Disdik", "agency", "DISDIK")
COLUMNS = ("verified_at", "forwarded_at", "answered_at", "closed_at")


def _url(backend: str, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite3'}"
    return servers.fresh_database(request.getfixturevalue("postgres_url"), "steps")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    db = Database(_url(request.param, tmp_path, request))
    migrate(db.engine)
    service.add_kiosk(db, "MT01", "Mal Pelayanan Publik Muara Teweh")
    yield db
    db.close()


def _file(db: Database, at: dt.datetime | None = None) -> str:
    body = report()
    assert service.take_report(db, "MT01", body, now=at).outcome == "created"
    return body["tracking_id"]


def _steps(db: Database, tracking_id: str) -> dict[str, dt.datetime | None]:
    with db.session() as session:
        row = session.execute(select(*(getattr(Report, c) for c in COLUMNS))
                              .where(Report.tracking_id == tracking_id)).one()
    return dict(zip(COLUMNS, row))


def _events(db: Database, tracking_id: str, status: str) -> list[dt.datetime]:
    with db.session() as session:
        return list(session.scalars(select(ReportEvent.at).where(
            ReportEvent.tracking_id == tracking_id, ReportEvent.kind == "status", ReportEvent.status == status)
            .order_by(ReportEvent.at)))


def _object(db: Database, tracking_id: str) -> None:
    item = FeedbackIn(key=uuid.uuid4().hex, kind="objection", tracking_id=tracking_id, text="Belum beres.",
                      filed_at=utc_now())
    assert feedback.take(db, item, kiosk_code="MT01") == "created"


def test_each_first_step_is_kept_through_reroute_objection_and_a_second_answer(db):
    """GIVEN a report WHEN an admin verifies and forwards it to DINKES, re-routes it to DISDIK,
    DISDIK answers, the citizen objects, DISDIK answers again and an admin closes it THEN the
    row holds the moment of each step's FIRST event: the re-route leaves the forwarding, the
    second answer leaves the first answer's time."""
    tid = _file(db)
    assert _steps(db, tid) == dict.fromkeys(COLUMNS)

    before = utc_now()
    actions.act(db, ADMIN, tid, "verify")
    after = utc_now()
    verified = _steps(db, tid)["verified_at"]
    assert before <= verified <= after
    assert _steps(db, tid) == {"verified_at": verified, "forwarded_at": None, "answered_at": None, "closed_at": None}

    actions.act(db, ADMIN, tid, "forward", agency="DINKES")
    forwarded = _steps(db, tid)["forwarded_at"]
    assert forwarded > verified
    actions.act(db, DINKES, tid, "start")
    actions.act(db, ADMIN, tid, "reroute", agency="DISDIK", note="Urusan sekolah, bukan puskesmas.")
    actions.act(db, DISDIK, tid, "answer", reply="Sudah kami perbaiki.")
    answered = _steps(db, tid)["answered_at"]
    assert _steps(db, tid) == {"verified_at": verified, "forwarded_at": forwarded, "answered_at": answered,
                               "closed_at": None}

    _object(db, tid)  # back to DISDIK, in progress
    actions.act(db, DISDIK, tid, "answer", reply="Sudah kami perbaiki lagi.")
    assert len(_events(db, tid, "answered")) == 2 and _events(db, tid, "answered")[-1] > answered
    actions.act(db, ADMIN, tid, "close")
    steps = _steps(db, tid)
    assert steps == {"verified_at": verified, "forwarded_at": forwarded, "answered_at": answered,
                     "closed_at": _events(db, tid, "closed")[0]}
    assert steps["closed_at"] > _events(db, tid, "answered")[-1]


def test_a_verification_and_forwarding_after_a_postponement_keep_the_first_ones(db):
    tid = _file(db)
    actions.act(db, ADMIN, tid, "verify")
    actions.act(db, ADMIN, tid, "forward", agency="DINKES")
    first = _steps(db, tid)
    actions.act(db, ADMIN, tid, "postpone", note="Menunggu data.")
    actions.act(db, ADMIN, tid, "verify")
    actions.act(db, ADMIN, tid, "forward", agency="DISDIK")
    assert len(_events(db, tid, "verified")) == len(_events(db, tid, "forwarded")) == 2
    assert _steps(db, tid) == first


def test_a_duplicate_takes_its_originals_steps_and_the_automatic_close_sets_the_close(db):
    """GIVEN a report linked as the duplicate of another WHEN the original is verified,
    forwarded, answered and closed by itself after 10 working days THEN both rows hold those
    moments (the CSV shows them), and the recap counts the duplicate but times only the
    original."""
    original, duplicate = _file(db), _file(db)
    actions.link_duplicate(db, ADMIN, duplicate, original)
    actions.act(db, ADMIN, original, "verify")
    actions.act(db, ADMIN, original, "forward", agency="DINKES")
    actions.act(db, DINKES, original, "answer", reply="Sudah ditangani.")
    closing = utc_now() + dt.timedelta(days=30)
    assert feedback.close_answered(db, now=closing) == 1
    steps = _steps(db, original)
    assert steps["closed_at"] == closing and None not in steps.values()
    assert _steps(db, duplicate) == steps

    today = dt.datetime.now(LOCAL_TZ).date()
    figures = recap.recap(db, recap.Period(today, today), today=today)
    assert figures.total == 2
    assert [(t.name, t.count) for t in figures.timings] == [("verify", 1), ("forward", 1), ("answer", 1),
                                                            ("agency", 1)]
    rows = {row.tracking_id: row.steps for row in recap.export(db, recap.Period(today, today), today=today)}
    assert rows[duplicate] == rows[original] == dict(zip(recap.STEPS, steps.values()))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_back_fills_the_first_steps_from_the_events(backend, tmp_path, request):
    """GIVEN reports stored at c0007 with their status events (one verified twice around a
    postponement, forwarded, re-routed, answered, objected to, answered again and closed; one
    only received, with an officer's note written while it was that status) WHEN c0008 runs
    THEN each row holds the first event of each step, and nothing from a note."""
    url = _url(backend, tmp_path, request)
    alembic(url, "c0007")
    t0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.timezone.utc)
    hours = lambda n: t0 + dt.timedelta(hours=n)  # noqa: E731
    lives = {
        "A": [("received", 0), ("verified", 2), ("postponed", 3), ("verified", 5), ("forwarded", 7),
              ("rerouted", 9), ("in_progress", 10), ("answered", 30), ("objected", 40), ("answered", 50),
              ("closed", 300)],
        "B": [("received", 1)],
    }
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(Kiosk.__table__).values(code="MT01", location="x", token_sha256="d", created_at=t0))
            for key, life in lives.items():
                tid = f"MT01{key}000000000"
                conn.execute(insert(Report.__table__).values(
                    tracking_id=tid, kiosk_code="MT01", body="{}", body_sha256="x", kind="pengaduan",
                    category_code="KESEHATAN", agency_code="DISDIK" if key == "A" else None, confidential=False,
                    anonymous=False, status=life[-1][0], received_at=hours(life[0][1])))
                conn.execute(insert(ReportEvent.__table__), [
                    {"tracking_id": tid, "status": status, "at": hours(n), "actor": "x", "note": "", "kind": "status"}
                    for status, n in life])
            conn.execute(insert(ReportEvent.__table__).values(  # a note says the status it was written in
                tracking_id="MT01B000000000", status="answered", at=hours(2), actor="x", note="catatan", kind="note"))
        alembic(url, "c0008")
        stored = {tid[4]: _steps(db, tid) for tid in ("MT01A000000000", "MT01B000000000")}
        assert stored == {"A": {"verified_at": hours(2), "forwarded_at": hours(7), "answered_at": hours(30),
                                "closed_at": hours(300)},
                          "B": dict.fromkeys(COLUMNS)}
        alembic(url, "c0007", "downgrade")  # and back: the columns and indexes go, the reports stay
        assert {c["name"] for c in inspect(db.engine).get_columns("reports")}.isdisjoint(COLUMNS)
        assert len(query(url, "SELECT tracking_id FROM reports")) == 2
    finally:
        db.close()
