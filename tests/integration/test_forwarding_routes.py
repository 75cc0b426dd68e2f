"""Where a report travels onward when its routes change after it came in: an officer sends
it to another agency (the worker holding it mid-pass included), a kabupaten adds a
destination and back-fills the reports it already holds. A real central (SQLite), the real
CLI and workbench, a real LAPOR! double over HTTP, and the real worker."""
from __future__ import annotations

import datetime as dt
import random

from central import forwarding, service
from central.db import Database, migrate
from central.forwarder import Forwarder, Settings
from central.forwarding_config import load
from kiosk.kernel.clock import utc_now
from tests.support.central import central_cli, query, report, running_central, send
from tests.support.lapor_double import LaporDouble, forwarding_file
from tests.support.workbench import add_officer, log_in

SETTINGS = Settings(batch=5, claim_ttl_s=10, backoff_base_s=2.0, backoff_cap_s=60, look_after_s=5, pull_every_s=None)
#: Each agency's own system (both served by one double here): a route per agency.
BY_AGENCY = ('[[routes]]\ndestination = "dinkes"\nagencies = ["DINKES"]\n'
             '[[routes]]\ndestination = "dinsos"\nagencies = ["DINSOS"]\n')


def _file(folder, double: LaporDouble) -> str:
    second = f'[destinations.dinsos]\ntype = "lapor"\nurl = "{double.url}"\ntoken_file = "{folder / "dinkes.token"}"\n'
    return forwarding_file(folder, double, name="dinkes", routes=BY_AGENCY, timeout_s=2.0, extra=second)


def _entries(url: str, tid: str) -> dict[str, tuple[str, str | None]]:
    return {d: (s, r) for d, s, r in query(url, "SELECT destination, state, last_reason FROM forwarding "
                                                "WHERE tracking_id = :t", t=tid)}


def test_a_report_sent_to_another_agency_before_it_left_goes_only_where_its_new_agency_routes_it(tmp_path):
    """GIVEN routes per agency and a report of DINKES that a worker has just claimed WHEN an
    admin forwards it to DINSOS (CLI) THEN the worker sends nothing to DINKES's system, the
    next pass sends it to DINSOS's once, the DINKES entry is withdrawn with its reason, the
    waiting list (exit 0) does not count it, and the report's page says it in both
    languages; WHEN it is re-routed back to DINKES THEN the withdrawn entry is sent, and
    what DINSOS's system holds stays sent (it cannot be called back)."""
    with LaporDouble().running() as double:
        path = _file(tmp_path, double)
        url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
        with running_central(url, env={"CENTRAL_FORWARDING_FILE": path}) as base:
            token = central_cli(url, "kiosk", "add", "MT01", "--location", "x").stdout.strip()
            body = report(agency_code="DINKES")
            tid = body["tracking_id"]
            assert send(base, token, body)[0]["outcome"] == "created"
            assert _entries(url, tid) == {"dinkes": ("pending", None)}

            worker = Forwarder(Database(url), load(path), SETTINGS, rng=random.Random(1))
            [held] = worker.outbox.claim(5, worker.clock(), worker.config.destinations)  # mid-pass
            moved = central_cli(url, "--forwarding-file", path, "report", tid, "verify")
            assert moved.returncode == 0, moved.stderr
            moved = central_cli(url, "--forwarding-file", path, "report", tid, "forward", "--agency", "DINSOS")
            assert moved.returncode == 0, moved.stderr
            worker.handle(held)  # the pass goes on with what it claimed before the move
            assert double.for_our_id(tid) == []
            assert worker.drain() == 1
            [stored] = double.for_our_id(tid)
            entries = _entries(url, tid)
            assert entries["dinsos"][0] == "sent" and entries["dinkes"][0] == "withdrawn"
            assert "went to DINSOS before it left" in entries["dinkes"][1]

            listing = central_cli(url, "forwarding", "--older-than", "0.0001")
            assert listing.returncode == 0 and "every forwarded report is sent" in listing.stdout, listing.stdout
            secret = add_officer(url, "Rina Admin", "admin", totp=True)
            admin = log_in(base, "Rina Admin", secret)
            for lang, words in (("id", "Tidak dikirim: laporan lebih dulu dialihkan ke instansi lain"),
                                ("en", "Not sent: the report went to another agency first")):
                page = admin.get(f"{base}/workbench/reports/{tid}?lang={lang}", timeout=30).text
                assert words in page

            back = central_cli(url, "--forwarding-file", path, "report", tid, "reroute", "--agency", "DINKES")
            assert back.returncode == 0, back.stderr
            assert worker.drain() == 1
            assert len(double.for_our_id(tid)) == 2  # one in each agency's system
            assert {d: s for d, (s, _) in _entries(url, tid).items()} == {"dinkes": "sent", "dinsos": "sent"}
            assert double.for_our_id(tid)[0].trackingid == stored.trackingid


def test_route_again_keeps_what_may_have_left(tmp_path):
    """Only a pending entry that cannot be upstream is withdrawn: an entry being sent,
    failed or unconfirmed stays; so does a pending one of a destination that recognises a
    resend after an attempt whose answer was lost (the resend tells its number)."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    db = Database(url)
    try:
        migrate(db.engine)
        service.add_kiosk(db, "MT01", "x")
        outbox = forwarding.Outbox(db, "w1", claim_ttl=dt.timedelta(seconds=60))
        now = utc_now()
        names = ["fresh", "sending", "failed", "unconfirmed", "o311"]
        tid = report()["tracking_id"]
        service.take_report(db, "MT01", report(tracking_id=tid))
        with db.session() as session, session.begin():
            forwarding.enqueue(session, tid, [(n, "lapor") for n in names], now)
        ids = dict(query(url, "SELECT destination, id FROM forwarding WHERE tracking_id = :t", t=tid))
        for name in ("sending", "failed", "unconfirmed", "o311"):
            outbox.claim(10, now, [name])
            assert outbox.begin_send(ids[name], now)
        assert outbox.mark_failed(ids["failed"], "refused", now)
        assert outbox.mark_unconfirmed(ids["unconfirmed"], "lost", now, now)
        assert outbox.retry_later(ids["o311"], "lost, resent", now, now)  # pending again, one attempt made
        with db.session() as session, session.begin():
            added, withdrawn = forwarding.route_again(session, tid, [("new", "lapor")], now, withdraw=True,
                                                      idempotent={"o311"}, reason="moved")
        assert (added, withdrawn) == (["new"], ["fresh"])
        states = dict(query(url, "SELECT destination, state FROM forwarding WHERE tracking_id = :t", t=tid))
        assert states == {"fresh": "withdrawn", "sending": "sending", "failed": "failed",
                          "unconfirmed": "unconfirmed", "o311": "pending", "new": "pending"}
    finally:
        db.close()


def test_a_backfill_gives_the_reports_under_way_their_entries_once(tmp_path):
    """GIVEN a central that ran without forwarding, with three reports, one of them closed
    WHEN the kabupaten adds LAPOR! and runs ``forwarding backfill`` THEN --dry-run counts
    two and changes nothing, the run adds two, a second run adds none, without the file it
    says what is missing (exit 2), and the worker sends the two."""
    with LaporDouble().running() as double:
        path = forwarding_file(tmp_path, double)
        url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
        with running_central(url) as base:
            token = central_cli(url, "kiosk", "add", "MT01", "--location", "x").stdout.strip()
            bodies = [report(agency_code="DINKES") for _ in range(3)]
            send(base, token, *bodies)
        done = bodies[2]["tracking_id"]
        for action in ("verify", "forward --agency DINKES", "answer --reply Sudah", "close"):
            assert central_cli(url, "report", done, *action.split()).returncode == 0
        assert query(url, "SELECT count(*) FROM forwarding") == [(0,)]

        missing = central_cli(url, "forwarding", "backfill")
        assert missing.returncode == 2 and "--forwarding-file" in missing.stderr
        dry = central_cli(url, "--forwarding-file", path, "forwarding", "backfill", "--dry-run")
        assert dry.returncode == 0 and "3 reports under way" not in dry.stdout
        assert "2 reports under way looked at; entries would be added: lapor 2" in dry.stdout, dry.stdout
        assert query(url, "SELECT count(*) FROM forwarding") == [(0,)]
        run = central_cli(url, "--forwarding-file", path, "forwarding", "backfill", "--since", "2000-01-01")
        assert "entries added: lapor 2" in run.stdout, run.stdout + run.stderr
        again = central_cli(url, "--forwarding-file", path, "forwarding", "backfill")
        assert "entries added: none" in again.stdout
        worker = Forwarder(Database(url), load(path), SETTINGS, rng=random.Random(1))
        assert worker.drain() == 2
        assert sorted(s.our_id for s in double.stored) == sorted(b["tracking_id"] for b in bodies[:2])
