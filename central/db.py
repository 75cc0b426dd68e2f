"""The central database: SQLite by default, PostgreSQL in production (same code)."""
from __future__ import annotations

import logging
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
    (Indonesia's national one unless the kabupaten's file is given: ``--holidays-file``)."""

    def __init__(self, url: str, calendar=None):
        from kiosk.kernel.workdays import NATIONAL

        self.url = url
        self.calendar = calendar or NATIONAL
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()
