"""Which schema the kiosk's database is at, with the standard library only.

``kiosk run`` asks this before its first frame (:func:`kiosk.core.store.migrate.prepare`):
importing SQLAlchemy there (about 200 ms) put the whole store's start in front of
Welcome, though the store is opened only after Welcome is drawn.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

#: The newest migration. Start-up compares the database with it and loads Alembic only
#: when they differ (Alembic costs ~100 ms to import); a test keeps it equal to Alembic's head.
SCHEMA_HEAD = "0008"


def schema_revision(db_file: Path) -> str | None:
    """The schema revision the database at ``db_file`` is at (None: no database, or none
    that can be read here)."""
    if not Path(db_file).is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{Path(db_file).resolve().as_uri()}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None
