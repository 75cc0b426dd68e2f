"""What every benchmark shares: the repository root and a headless Kivy environment for
the kiosk processes it starts."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def kivy_process_env() -> dict[str, str]:
    """This process's environment plus a headless, hermetic Kivy (its own KIVY_HOME)."""
    env = dict(os.environ)
    env.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_NO_FILELOG="1")
    env["KIVY_HOME"] = tempfile.mkdtemp(prefix="bench-kivy-")
    return env
