"""Storage pieces below every layer: a SQLite engine made durable, the UTC datetime column
type, and the declarative base every kiosk table (reports, outbox, reference data) shares.

The central service uses the engine and the column type too; the base is the kiosk's: it
sits here because the outbox (below the kiosk core) and the report tables (in the core)
must share one metadata for Alembic and their foreign key."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class UnreadableRecord(Exception):
    """A stored record exists but cannot be read back (damaged at rest): it is set aside
    alone and the others go on. ``args[0]``/``reason`` is the short sentence a technician
    reads; ``str(exc)`` may say more. The kiosk's ``UnreadableReport`` is one; the sync
    worker knows only this type."""

    @property
    def reason(self) -> str:
        """The short sentence kept for the technician (e.g. on an outbox entry)."""
        return str(self.args[0]) if self.args else type(self).__name__


def durable_sqlite_engine(url: str, *, busy_timeout_s: float = 5.0, cache_kib: int | None = None) -> Engine:
    """A SQLite engine with WAL, ``synchronous=FULL``, foreign keys, ``secure_delete`` and
    ``BEGIN IMMEDIATE`` on every connection (shared by the kiosk store and the central
    service's SQLite mode). ``secure_delete`` overwrites deleted content (a delivered
    report's name and phone) instead of leaving it in free pages: set here, not left to
    how the SQLite library happened to be built.

    ``cache_kib``: each connection's page cache (SQLite's default is 2,000 KiB, filled as
    the file grows and kept for the connection's life: one per pooled connection)."""
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        if cache_kib is not None:
            cursor.execute(f"PRAGMA cache_size={-int(cache_kib)}")  # negative: KiB, not pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READING) else "BEGIN IMMEDIATE")

    return engine


_READING = "read_only_snapshot"


def reading(engine: Engine) -> Engine:
    """The engine for a read that must not wait for a writer: its transaction begins
    deferred, so under WAL it reads the last committed state at once, while the sync
    worker's transaction (a claim of 500 reports, their text opened) holds the write lock.
    For the UI thread's small reads (the count of reports waiting on Welcome): a frame
    waited up to the writer's whole transaction. Never for a read followed by a write
    in the same transaction (that could not upgrade under a writer)."""
    return engine.execution_options(**{_READING: True})
