"""The kiosk's database is migrated in a process of its own before the UI starts
(kiosk.core.store.migrate): Alembic never stays in the kiosk's memory, and a migration
that cannot be done there is still done, or refused with its reason, by the kiosk."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from devices import camera_process
from kiosk import launcher
from kiosk.core.store import migrate
from kiosk.core.store.db import SCHEMA_HEAD, StoreError, open_store, schema_revision

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_kiosk_s_database_is_made_by_a_child_and_alembic_never_loads_in_the_kiosk(tmp_path):
    """GIVEN a data directory with no database WHEN the kiosk prepares its store as
    ``kiosk run`` does THEN the database is at the newest schema, and the process that
    asked (then opens the store as the UI does) has imported no Alembic nor Mako."""
    db = tmp_path / "data" / "kiosk.sqlite3"
    code = ("import logging, sys\n"
            "logging.basicConfig(level=logging.INFO)\n"
            "from pathlib import Path\n"
            "from kiosk.core.store.migrate import prepare\n"
            "from kiosk.core.store.db import open_store\n"
            f"db = Path({str(db)!r})\n"
            "assert prepare(db)\n"
            "open_store(db, key_file=db.with_name('kiosk.key')).close()\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako'}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert schema_revision(db) == SCHEMA_HEAD
    assert f"database migrated from schema none to {SCHEMA_HEAD} in its own process" in out.stderr


def test_a_database_at_the_head_is_checked_before_the_first_frame_without_sqlalchemy(tmp_path):
    """GIVEN a database already at the newest schema WHEN ``kiosk run`` prepares it (before
    Kivy's first frame) THEN neither SQLAlchemy nor Alembic is imported for it: the store
    opens after Welcome is drawn, and SQLAlchemy's import (about 200 ms) had come first."""
    db = tmp_path / "kiosk.sqlite3"
    assert migrate.prepare(db)  # made by the child
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from kiosk.core.store.migrate import prepare\n"
            f"assert prepare(Path({str(db)!r}))\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_database_at_the_head_starts_no_child(tmp_path, caplog):
    db = tmp_path / "kiosk.sqlite3"
    with caplog.at_level(logging.INFO, logger="kiosk.core.store.migrate"):
        assert migrate.prepare(db)
        assert "in its own process" in caplog.text
        caplog.clear()
        assert migrate.prepare(db)
    assert caplog.text == ""


def test_an_older_schema_is_brought_to_the_head_with_its_reports(tmp_path):
    """An upgrade's first start: the database from the release before is migrated by the
    child, and what it kept is still there."""
    db = tmp_path / "kiosk.sqlite3"
    older = "0007"
    subprocess.run([sys.executable, "-c",
                    "from alembic import command\n"
                    "from kiosk.core.store.db import _alembic_config, _make_engine\n"
                    f"from pathlib import Path\nengine = _make_engine(Path({str(db)!r}))\n"
                    "with engine.begin() as conn:\n"
                    "    cfg = _alembic_config(); cfg.attributes['connection'] = conn\n"
                    f"    command.upgrade(cfg, {older!r})\n"
                    "    conn.exec_driver_sql(\"INSERT INTO meta (key, value) VALUES ('kept', 'yes')\")\n"],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert schema_revision(db) == older
    assert migrate.prepare(db)
    assert schema_revision(db) == SCHEMA_HEAD
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone() == ("yes",)


def test_a_child_that_cannot_migrate_leaves_the_kiosk_to_say_why(tmp_path, caplog):
    """GIVEN a data directory that cannot be made (a file where the folder should be)
    WHEN the child tries THEN it fails, the kiosk logs that it will migrate itself, and
    opening the store reports the reason as a StoreError (the out-of-service screen)."""
    (tmp_path / "data").write_text("not a folder", encoding="utf-8")
    db = tmp_path / "data" / "kiosk.sqlite3"
    with caplog.at_level(logging.WARNING, logger="kiosk.core.store.migrate"):
        assert not migrate.prepare(db)
    assert "failed (exit 1): the kiosk migrates it itself" in caplog.text
    with pytest.raises(StoreError, match="cannot prepare"):
        open_store(db, key_file=tmp_path / "kiosk.key")


def test_the_bundle_s_child_words_are_the_modules_own():
    """The kiosk starts the bundle as each child by the word its module names, and the
    file printer asks for its preview's child by that child's own word."""
    from devices import escpos_sim
    from devices.printer.file import PREVIEW_CHILD_WORD
    from kiosk.core import receipt

    assert launcher.CHILDREN == {camera_process.CHILD_WORD: "devices.camera_process",
                                 migrate.CHILD_WORD: "kiosk.core.store.migrate",
                                 escpos_sim.CHILD_WORD: "devices.escpos_sim",
                                 receipt.LAYOUT_CHILD_WORD: "kiosk.core.receipt"}
    assert PREVIEW_CHILD_WORD == escpos_sim.CHILD_WORD
