"""Open the kiosk's SQLite store: durable settings on every connection, schema by Alembic.

WAL with ``synchronous=FULL`` makes a commit durable before it returns (a power cut
after the receipt prints cannot lose the report). Transactions start with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read lock.
"""
from __future__ import annotations

import dataclasses
import errno
import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.kernel.storage import durable_sqlite_engine, reading
from kiosk.core.store.crypto import SealError, Sealer, load_or_create_key
from kiosk.core.store.schema import SCHEMA_HEAD, schema_revision  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: ``meta`` key holding a token sealed with the store's key, to recognise the right key file.
KEY_CHECK = "key_check"


class StoreError(Exception):
    """The database cannot be opened or written; the message says what to check."""


class CannotKeepReports(StoreError):
    """No room to keep a report: the disk is full or below the reserve
    (``min_free_disk_mb``), or the data directory is read-only. Nothing was written;
    the kiosk takes no report until a technician makes room."""


MB = 1024 * 1024  # as `df -m` counts

#: SQLite's primary result codes that mean the disk, not the data, is the problem.
_NO_ROOM_CODES = {sqlite3.SQLITE_FULL: "the disk is full", sqlite3.SQLITE_READONLY: "the database is read-only"}


def no_room_reason(exc: BaseException) -> str | None:
    """Why ``exc`` (a SQLAlchemy, sqlite3 or OS error) means there is no room, or None."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return _NO_ROOM_CODES.get(code & 0xFF)
    if isinstance(orig, OSError) and orig.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return os.strerror(orig.errno)
    return None


def free_bytes(directory: Path) -> int:
    """Bytes an unprivileged writer may still use on the filesystem holding ``directory``."""
    return shutil.disk_usage(directory).free


def writable(directory: Path) -> bool:
    """Whether this process may create files in ``directory`` (False on a read-only mount)."""
    return os.access(directory, os.W_OK)


def _alembic_config():
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The head revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _current_revision(conn) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


#: Each pooled connection's page cache on the kiosk. SQLite's default (2,000 KiB) fills as
#: the database grows and stays for the connection's life, so three connections (the UI,
#: the sync worker, the printer) came to hold up to 6 MiB more than at the start
#: (``benchmarks/soak.py`` records SQLite's memory). The kiosk's reads are small (a claim
#: of 500 reports is about 1 MiB of pages, read once) and the kernel's file cache keeps
#: the file anyway.
CACHE_KIB = 256


def _make_engine(db_file: Path) -> Engine:
    return durable_sqlite_engine(f"sqlite:///{db_file}", cache_kib=CACHE_KIB)


def _check_key(conn, sealer: Sealer, db_file: Path, key_file: Path) -> None:
    """Refuse a key file that does not belong to this database, before anything is written with it.

    A token sealed with the first key is kept in ``meta``; a database from before that
    check is tested against one stored report instead, then gets its token.
    """
    token = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (KEY_CHECK,)).scalar()
    if token is None:
        token = conn.exec_driver_sql("SELECT title FROM reports LIMIT 1").scalar()
    if token is not None:
        try:
            sealer.open(token.encode("ascii") if isinstance(token, str) else token)
        except SealError:
            raise StoreError(
                f"the key file {key_file} does not belong to the database {db_file}: "
                "restore the kiosk's original key file (stored reports cannot be read without it)"
            ) from None
    if conn.exec_driver_sql("SELECT 1 FROM meta WHERE key = ?", (KEY_CHECK,)).scalar() is None:
        conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES (?, ?)",
                             (KEY_CHECK, sealer.seal(KEY_CHECK).decode("ascii")))


@dataclasses.dataclass(frozen=True)
class IntegrityReport:
    """What SQLite's ``PRAGMA quick_check`` said about a database file, and how long it took."""

    ok: bool
    problems: tuple[str, ...]
    seconds: float


#: How many problems ``quick_check`` lists at most (the first ones tell a technician enough).
QUICK_CHECK_LIMIT = 10


def quick_check(db_file: Path) -> IntegrityReport:
    """Run ``PRAGMA quick_check`` on ``db_file`` on a connection of its own (read-only, so
    it works beside a running kiosk and on a file the store cannot open). Never raises:
    a file SQLite cannot read at all is one problem."""
    started = time.monotonic()
    try:
        con = sqlite3.connect(f"{Path(db_file).resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = [str(row[0]) for row in con.execute(f"PRAGMA quick_check({QUICK_CHECK_LIMIT})")]
        finally:
            con.close()
    except sqlite3.Error as exc:  # SQLite's words name pages and errors, never stored content
        rows = [f"{type(exc).__name__}: {exc}"]
    problems = tuple(" ".join(row.split()) for row in rows if row != "ok")  # one line each
    return IntegrityReport(ok=not problems, problems=problems, seconds=time.monotonic() - started)


class Store:
    """The open database: an engine, sessions, and the key that seals personal data."""

    def __init__(self, engine: Engine, sealer: Sealer, path: Path):
        self.engine = engine
        self.sealer = sealer
        self.path = path
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reading = sessionmaker(reading(engine), expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def reading_session(self) -> Session:
        """A session for reads only, which never waits for a writer (``reading``): the
        sync worker's batch read, opening 500 reports' text, no longer holds the write lock
        a citizen's report would wait for."""
        return self._reading()

    def room_problem(self, reserve_bytes: int) -> str | None:
        """Why a report cannot be kept now (read-only, or less than ``reserve_bytes``
        free next to the database), or None when there is room."""
        directory = self.path.parent
        try:
            if not writable(directory):
                return f"{directory} is read-only"
            free = free_bytes(directory)
        except OSError as exc:
            return f"{directory}: {exc.strerror}"
        if free < max(reserve_bytes, 1):
            return f"{free // MB} MB free in {directory}, {reserve_bytes // MB} MB must stay free"
        return None

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return _current_revision(conn)

    def close(self) -> None:
        self.engine.dispose()


def _upgrade(conn) -> None:
    """Bring the schema to :data:`SCHEMA_HEAD` (Alembic is imported only when it is not there)."""
    if _current_revision(conn) != SCHEMA_HEAD:
        from alembic import command

        log.info("migrating the kiosk database to schema %s", SCHEMA_HEAD)
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def migrate(db_file: Path) -> None:
    """Create or migrate the database at ``db_file`` (its schema only: no key is read),
    as :func:`open_store` would; a :class:`StoreError` says why not."""
    db_file = Path(db_file)
    try:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        engine = _make_engine(db_file)
    except OSError as exc:
        raise StoreError(f"cannot prepare {db_file.parent}: {exc}") from None
    try:
        with engine.begin() as conn:
            _upgrade(conn)
    except (SQLAlchemyError, DBAPIError, OSError) as exc:
        raise StoreError(f"cannot migrate the database {db_file}: {getattr(exc, 'orig', None) or exc}") from None
    finally:
        engine.dispose()


def open_store(db_file: Path, *, key_file: Path) -> Store:
    """Open (creating and migrating as needed) the database at ``db_file``."""
    db_file = Path(db_file)
    try:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        if not writable(db_file.parent):
            raise CannotKeepReports(f"the data directory {db_file.parent} is read-only (or not this user's): "
                                    "no report could be kept")
        sealer = load_or_create_key(Path(key_file))
    except (OSError, SealError) as exc:
        reason = no_room_reason(exc)
        raise (CannotKeepReports if reason else StoreError)(f"cannot prepare {db_file.parent}: {exc}") from None
    engine = _make_engine(db_file)
    try:
        with engine.begin() as conn:
            _upgrade(conn)
            _check_key(conn, sealer, db_file, Path(key_file))
    except (SQLAlchemyError, DBAPIError, OSError) as exc:
        engine.dispose()
        error = CannotKeepReports if no_room_reason(exc) else StoreError
        raise error(f"cannot open the database {db_file}: {getattr(exc, 'orig', None) or exc}") from None
    except StoreError:
        engine.dispose()
        raise
    log.info("store open at schema revision %s", SCHEMA_HEAD)
    return Store(engine, sealer, db_file)
