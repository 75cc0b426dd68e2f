"""The ``kiosk`` command (and ``python -m kiosk``, ``main.py``, the bundle): the one module
that knows every layer. It hands the runtime's command line the way to start the UI, so
nothing below ``screens/`` imports it; technician commands never load Kivy."""
from __future__ import annotations

import importlib
from pathlib import Path

#: The kiosk's children by their word (``kiosk.kernel.children``: a bundle has no
#: ``python -m``, so it runs itself with the word), and the module whose ``main`` each runs.
#: Here, in the kiosk's code, not in ``main.py``, which a bundle freezes into its runtime: a
#: code-only upgrade can add a child, and a runtime's older ``main.py`` hands any word it
#: does not know to :func:`main`, which knows them all.
CHILDREN = {"camera-serve": "devices.camera_process",  # the camera's process
            "store-migrate": "kiosk.core.store.migrate",  # the database's migration, before the UI
            "receipt-preview": "devices.escpos_sim",  # the file printer's picture of a receipt
            "receipt-layout": "kiosk.core.receipt"}  # a receipt's ESC/POS bytes, python-escpos kept out of the UI


def run_ui(config, screenshot: Path | None) -> int:
    """``kiosk run``: the Kivy app (Kivy is imported only here), its C heap set for weeks
    of running first (:mod:`kiosk.runtime.memory`), before Kivy or SDL starts a thread;
    before that, the database migrated in a process of its own when it needs to be
    (:mod:`kiosk.core.store.migrate`: Alembic never stays in the kiosk's memory), and
    python-escpos's printer database cached in the data directory
    (:mod:`devices.printer.capabilities`)."""
    from devices.printer.capabilities import keep_printer_database
    from kiosk.core.store.migrate import prepare
    from kiosk.runtime.memory import settle_malloc

    prepare(config.database_file)
    keep_printer_database(config.cache_path)
    settle_malloc()
    from screens.app import run_kiosk

    return run_kiosk(config, screenshot=screenshot)


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] in CHILDREN:  # only the module of that child is imported
        return importlib.import_module(CHILDREN[argv[0]]).main(argv[1:])
    from kiosk.runtime.cli import main as cli_main

    return cli_main(argv, run_ui=run_ui)
