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
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()
