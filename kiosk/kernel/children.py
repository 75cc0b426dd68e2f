"""How the kiosk starts a child of its own: a fresh interpreter running one module.

From source that is ``python -m MODULE``; a PyInstaller bundle has no ``-m``, so the
bundle runs itself with the module's word, which ``kiosk.launcher.main`` (its
``CHILDREN``) hands to that module's ``main``. The child finds our packages where the
parent found them, so a kiosk started from any folder starts its children too. Used by the
camera's process (``devices.camera_process``), the database's migration
(``kiosk.core.store.migrate``), the file printer's preview (``devices.escpos_sim``) and the
receipt's layout (``kiosk.core.receipt``).
"""
from __future__ import annotations

import os
import sys


def command(module: str, word: str) -> list[str]:
    """The child's command line, before its own arguments."""
    if getattr(sys, "frozen", False):
        return [sys.executable, word]
    return [sys.executable, "-m", module]


def environ() -> dict[str, str]:
    """This process's environment, with ``PYTHONPATH`` where this process found its packages."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
