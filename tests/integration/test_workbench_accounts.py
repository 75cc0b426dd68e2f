"""Workbench accounts from the CLI, the migrations of officers (c0003: existing officers
keep their API tokens; c0009: those tokens become scripts', not workbench admins, and a
disabled account's token stays revoked apart from its state) on SQLite and PostgreSQL, and
the inbox's index use at 100,000 reports."""
from __future__ import annotations

import datetime as dt
import statistics
import time

from sqlalchemy import create_engine, text

from tests.support.central import assert_schema_matches_models, query
from tests.support.workbench import PASSWORD, officer_cli


def _url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'central.sqlite3'}"


def test_officer_add_checks_role_agency_and_password_and_prints_nothing_secret(tmp_path):
    url = _url(tmp_path)
    refused = {
        ("add", "a1", "--role", "agency"): PASSWORD,  # no agency
        ("add", "a2", "--role", "agency", "--agency", "NOPE"): PASSWORD,
        ("add", "a3", "--role", "viewer", "--agency", "DINKES"): PASSWORD,
        ("add", "a4", "--role", "viewer"): "pendek",
        ("password", "nobody"): PASSWORD,
        ("totp", "nobody"): None,
    }
    for args, password in refused.items():
        result = officer_cli(url, *args, password=password)
        assert result.returncode == 2 and "error:" in result.stderr, args
    no_tty = officer_cli(url, "add", "a5", "--role", "viewer")  # stdin is not a terminal, no --password-stdin
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    added = officer_cli(url, "add", "Rina Dinkes", "--role", "agency", "--agency", "dinkes", password=PASSWORD)
    assert added.returncode == 0 and PASSWORD not in added.stdout + added.stderr
    assert officer_cli(url, "add", "Rina Dinkes", "--role", "viewer", password=PASSWORD).returncode == 2  # taken
    row = query(url, "SELECT role, agency_code, password_hash, token_sha256 FROM officers")
    assert row[0][:2] == ("agency", "DINKES") and row[0][2].startswith("$argon2id$") and row[0][3] is None
    totp = officer_cli(url, "totp", "Rina Dinkes")
    assert totp.returncode == 0 and totp.stdout.startswith("otpauth://totp/") and "secret=" not in totp.stderr
    legacy = officer_cli(url, "add", "script-bot")  # no --role: a script's API token
    assert legacy.returncode == 0 and len(legacy.stdout.strip()) >= 40
    assert query(url, "SELECT role, password_hash FROM officers WHERE name = 'script-bot'") == [("script", None)]
    for args in (("password", "script-bot"), ("totp", "script-bot")):  # never a workbench account
        refused = officer_cli(url, *args, password=PASSWORD if args[0] == "password" else None)
        assert refused.returncode == 2 and "not a workbench account" in refused.stderr, args
    assert query(url, "SELECT password_hash, totp_secret FROM officers WHERE name = 'script-bot'") == [(None, None)]


def _officer_before_the_workbench(url: str) -> None:
    """A database at c0002 with one officer, as a central had it before this revision."""
    from alembic import command
    from alembic.config import Config

    from central.db import MIGRATIONS, make_engine
    from central.service import token_digest

    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "c0002")
        conn.execute(text("INSERT INTO officers (name, token_sha256, created_at) VALUES ('lama', :d, :t)"),
                     {"d": token_digest("token-lama"), "t": dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)})
    engine.dispose()


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from central.db import MIGRATIONS, make_engine

    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
    engine.dispose()


def _accounts_before_c0009(url: str) -> None:
    """At c0008, besides 'lama' (an admin by c0003, no password): 'lama-rina', signed in, an old
    officer the operator since gave a password (an admin on purpose); 'dodi', a viewer an
    admin disabled (before c0009: revoked_at, which also stopped his token)."""
    from central.accounts import _hasher
    from central.service import token_digest

    _alembic(url, "upgrade", "c0008")
    engine = create_engine(url)
    at = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    with engine.begin() as conn:
        rows = [("lama-rina", "admin", _hasher.hash(PASSWORD), "token-rina", None),
                ("dodi", "viewer", _hasher.hash(PASSWORD), "token-dodi", at)]
        for name, role, hashed, token, revoked in rows:
            conn.execute(text("INSERT INTO officers (name, token_sha256, created_at, revoked_at, role, password_hash, "
                              "failed_logins, must_change_password) VALUES (:n, :d, :t, :r, :role, :h, 0, :f)"),
                         {"n": name, "d": token_digest(token), "t": at, "r": revoked, "role": role, "h": hashed,
                          "f": False})
        # lama-rina is signed in while the central upgrades (her session refers to her row)
        conn.execute(text("INSERT INTO workbench_sessions (token_sha256, officer_name, csrf_token, stage, created_at, "
                          "last_seen_at) VALUES ('s', 'lama-rina', 'c', 'ok', :t, :t)"), {"t": at})
    engine.dispose()


def _upgrade_and_check(url: str) -> None:
    """GIVEN the officers above WHEN the central migrates to the head THEN the old token
    still moves reports but is a script's: no workbench sign-in, not even after ``officer
    password``; the admin with a password stays one; the disabled viewer stays disabled and
    his token revoked, and enabling him does not bring the token back."""

    from central import accounts, actions, service
    from central.db import Database, migrate

    _accounts_before_c0009(url)
    db = Database(url)
    try:
        migrate(db.engine)
        assert service.authenticate_officer(db, "token-lama") == "lama"  # the API token still works
        assert actions.ROLE_ACTIONS[actions.api_officer(db, "lama").role] == tuple(actions.lifecycle.ACTIONS)
        assert query(url, "SELECT name, role, password_hash IS NULL, disabled_at IS NOT NULL, revoked_at IS NOT NULL "
                          "FROM officers ORDER BY name") == [("dodi", "viewer", False, True, True),
                                                             ("lama", "script", True, False, False),
                                                             ("lama-rina", "admin", False, False, False)]
        assert accounts.sign_in(db, "lama", "", "127.0.0.1").outcome is accounts.Outcome.WRONG
        assert accounts.sign_in(db, "dodi", PASSWORD, "127.0.0.1").outcome is accounts.Outcome.WRONG  # disabled
        assert service.authenticate_officer(db, "token-dodi") is None
        accounts.set_disabled(db, "lama-rina", "dodi", False, "127.0.0.1")
        assert accounts.sign_in(db, "dodi", PASSWORD, "127.0.0.1").outcome is accounts.Outcome.SIGNED_IN
        assert service.authenticate_officer(db, "token-dodi") is None  # the old token stays revoked
        assert service.authenticate_officer(db, "token-rina") == "lama-rina"
        assert_schema_matches_models(db)
    finally:
        db.close()
    # Down to c0008: the script is an admin again, and dodi's revoked token (an active
    # account now) is forgotten rather than read as a disabled account.
    _alembic(url, "downgrade", "c0008")
    assert query(url, "SELECT name, role, revoked_at IS NOT NULL, token_sha256 IS NULL FROM officers ORDER BY name") == [
        ("dodi", "viewer", False, True), ("lama", "admin", False, False), ("lama-rina", "admin", False, False)]


def test_migrations_make_old_tokens_scripts_and_keep_a_disabled_accounts_token_revoked_on_sqlite(tmp_path):
    url = _url(tmp_path)
    _officer_before_the_workbench(url)
    _upgrade_and_check(url)


def test_migration_on_postgresql(postgres_url):
    from tests.support.servers import fresh_database

    url = fresh_database(postgres_url, "workbench")
    _officer_before_the_workbench(url)
    _upgrade_and_check(url)


def test_the_inbox_uses_its_indexes_at_100000_reports(tmp_path):
    """GIVEN 100,000 reports WHEN an admin or an agency officer reads the first, a middle or
    a filtered page THEN SQLite walks an index in order (no sort of the whole table) and a
    page takes well under the issue's 150 ms goal on this machine."""
    from central import inbox
    from central.accounts import SignedIn
    from central.db import Database, migrate
    from central.models import new_open311_id

    url = _url(tmp_path)
    db = Database(url)
    migrate(db.engine)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    statuses = ("received", "verified", "forwarded", "in_progress", "answered", "closed")
    agencies = ("DINKES", "DISDIK", "DISDUKCAPIL", "DPUPR")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosks (code, location, token_sha256, created_at) VALUES ('MT01', 'x', 'd', :t)"),
                     {"t": start})
        conn.execute(text(
            "INSERT INTO reports (tracking_id, kiosk_code, body, body_sha256, kind, category_code, agency_code, "
            "confidential, anonymous, status, received_at, open311_id) VALUES (:t, 'MT01', :b, 'x', 'pengaduan', "
            "'KESEHATAN', :a, 0, 0, :s, :r, :o)"),
            [{"t": f"MT01{n:010d}", "b": '{"title": "Antrean"}', "a": agencies[n % 4], "s": statuses[n % 6],
              "r": start + dt.timedelta(minutes=n), "o": new_open311_id()} for n in range(100_000)])
    admin = SignedIn("a", "admin", None, "c", "ok")
    agency = SignedIn("b", "agency", "DINKES", "c", "ok")
    middle = inbox.encode_cursor(start + dt.timedelta(minutes=50_000), "MT010000050000")
    cases = [(admin, None, None), (admin, None, middle), (admin, "closed", middle), (agency, None, None),
             (agency, "answered", middle)]
    with db.engine.connect() as conn:
        for officer, status, after in cases:
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + str(
                inbox.page_queries(officer, inbox.Filters(status=status), after, inbox.PAGE_SIZE + 1, today=start.date(),
                                   dialect="sqlite")[0].compile(db.engine, compile_kwargs={"literal_binds": True})))))
            assert "USING INDEX ix_reports_" in plan or "USING COVERING INDEX ix_reports_" in plan, plan
            if officer.role == "admin":
                assert "TEMP B-TREE" not in plan, plan  # ordered by the index itself
    timings = []
    for officer, status, after in cases * 4:
        began = time.perf_counter()
        page = inbox.inbox(db, officer, inbox.Filters(status=status), after=after)
        timings.append(time.perf_counter() - began)
        assert len(page.rows) == inbox.PAGE_SIZE and page.next_cursor
    first = inbox.inbox(db, admin)
    assert first.rows[0].tracking_id == "MT010000099999" and sum(first.counts.values()) == 100_000
    db.close()
    assert statistics.median(timings) < 0.15, timings
