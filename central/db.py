"""The central database: SQLite by default, PostgreSQL in production (same code)."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import platformdirs
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_database_url() -> str:
    data = Path(platformdirs.user_data_dir("lapor-central", appauthor=False))
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'central.sqlite3'}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        from kiosk.kernel.storage import durable_sqlite_engine

        return durable_sqlite_engine(url, busy_timeout_s=30)
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision. Quiet: one line of ours when it
    upgrades, nothing when it is current (Alembic's own INFO lines are for developers)."""
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, level))
    try:
        upgraded = _upgrade(engine)
    finally:
        alembic_log.setLevel(level)
    if upgraded:
        log.info("central database schema upgraded from %s to %s", *upgraded)


def _upgrade(engine: Engine) -> tuple[str, str] | None:
    """(from, to) when the schema was behind and is now upgraded; None when it was current."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return None
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return current or "empty", head


class Database:
    """The central's database, and the working-day calendar its deadlines count in
    (Indonesia's, with the kabupaten's days stored in the database: ``central.deadlines``)."""

    #: Seconds a process counts with the calendar it read before reading it again: an
    #: import (``python -m central holidays import``) reaches running services this late.
    CALENDAR_REFRESH_S = 10.0

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.calendar_refresh_s = self.CALENDAR_REFRESH_S
        self._calendar, self._calendar_at = None, 0.0
        self._calendar_lock = threading.Lock()
        #: The process's forwarding file (``central.forwarding_config.ForwardingConfig``):
        #: None, nothing is forwarded. Every intake routes its reports with it.
        self.forwarding = None
        #: The process's SMS desk (``central.sms.SmsDesk``): None, no SMS file. A report
        #: that becomes answered queues its SMS notice through it (``central.lifecycle``).
        self.sms = None

    def session(self) -> Session:
        return self._sessions()

    @property
    def calendar(self):
        """The working-day calendar (``kiosk.kernel.workdays.WorkCalendar``), read from the
        database at first use and again when older than ``calendar_refresh_s``
        (``central.deadlines.load_calendar``: a plain read outside any transaction). One
        thread reads it while the others go on with the one they have. When it changed
        (another process imported days), the due dates set meanwhile with the old one are
        moved, off this thread."""
        held = self._calendar
        if held is not None and time.monotonic() - self._calendar_at < self.calendar_refresh_s:
            return held
        if not self._calendar_lock.acquire(blocking=held is None):
            return held
        try:
            from central import deadlines

            if self._calendar is not None and self._calendar is not held:  # another thread read it meanwhile
                return self._calendar
            calendar = deadlines.load_calendar(self)
            self._calendar, self._calendar_at = calendar, time.monotonic()
        finally:
            self._calendar_lock.release()
        if held is not None and calendar != held:
            threading.Thread(target=deadlines.follow_calendar, args=(self, calendar), name="follow-calendar",
                             daemon=True).start()
        return calendar

    def forget_calendar(self) -> None:
        """Read the calendar again at its next use (this process changed the stored days)."""
        self._calendar = None

    def close(self) -> None:
        self.engine.dispose()
