"""Migrating the kiosk's store in a process of its own, before the kiosk's UI starts.

Alembic, with Mako and the migration scripts, is 11 MiB of a process's memory once
imported, and an import is not undone: a kiosk that migrated its database at start (its
first start, the first after an upgrade) carried them until the next restart, weeks
later (``benchmarks/soak.py``). ``kiosk run`` asks :func:`prepare` first: when the
database is not at :data:`kiosk.core.store.schema.SCHEMA_HEAD` (read with the standard
library, :func:`kiosk.core.store.schema.schema_revision`: SQLAlchemy is not imported
before the first frame either), a child (a fresh interpreter,
:func:`child_command`) migrates it and ends, and the kiosk then finds it at the head and
never imports Alembic. When the child cannot, the kiosk's own :func:`open_store` tries
again and reports why as it always has (its screen, its log).

    python -m kiosk.core.store.migrate DATABASE_FILE     (the bundle: kiosk store-migrate FILE)
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from kiosk.core.store.schema import SCHEMA_HEAD, schema_revision
from kiosk.kernel import children

log = logging.getLogger(__name__)

#: The word that makes the bundled kiosk this child (``main.py``).
CHILD_WORD = "store-migrate"
#: How long a migration may take before the kiosk gives up on the child (and tries itself).
TIMEOUT_S = 600


def child_command(db_file: Path) -> list[str]:
    """The child that migrates ``db_file`` (:func:`kiosk.kernel.children.command`)."""
    return [*children.command("kiosk.core.store.migrate", CHILD_WORD), str(db_file)]


def prepare(db_file: Path) -> bool:
    """Before the UI: the database at ``db_file`` at :data:`SCHEMA_HEAD`, migrated by a
    child if it was not. True when it is there now (or was already)."""
    found = schema_revision(db_file)
    if found == SCHEMA_HEAD:
        return True
    started = time.monotonic()
    try:
        done = subprocess.run(child_command(db_file), stdin=subprocess.DEVNULL, env=children.environ(),
                              timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("the database migration in its own process did not finish (%s): the kiosk migrates it itself",
                    exc)
        return False
    if done.returncode != 0 or schema_revision(db_file) != SCHEMA_HEAD:
        log.warning("the database migration in its own process failed (exit %s): the kiosk migrates it itself",
                    done.returncode)
        return False
    log.info("database migrated from schema %s to %s in its own process (%.1f s)", found or "none", SCHEMA_HEAD,
             time.monotonic() - started)
    return True


def main(argv: list[str]) -> int:
    """The child: migrate the database named by ``argv[0]``; 0 when done, 1 (and why on
    standard error) when not."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # its set-up, not the steps
    if len(argv) != 1:
        print("usage: python -m kiosk.core.store.migrate DATABASE_FILE", file=sys.stderr)
        return 2
    from kiosk.core.store.db import StoreError, migrate

    try:
        migrate(Path(argv[0]))
    except StoreError as exc:
        print(f"store-migrate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
