"""What ``kiosk run`` loads before Welcome's first frame: Kivy and the screens, not the
store's or the network's libraries. The store opens, and the sync worker starts, once
Welcome is drawn (``KioskApp.finish_start``); SQLAlchemy and pydantic imported in front of
it had made the first frame 1.9x a bare Kivy app's instead of 1.45x
(``benchmarks/run.py``, docs/PERFORMANCE.md)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Imported after the first frame only (the store, the wire contract, the HTTP client,
#: the key's cipher, the migrations).
AFTER_THE_FIRST_FRAME = ("sqlalchemy", "pydantic", "requests", "cryptography", "alembic")


def test_the_modules_before_the_first_frame_load_no_store_or_network_library(tmp_path):
    """GIVEN a new kiosk's data directory WHEN a fresh process does what ``kiosk run``
    does before Welcome is drawn (load the config, prepare the store: its child makes the
    database, set Kivy up, import the app and its Welcome screen) THEN none of the store's
    or the network's libraries has been imported. (A database already at the head:
    test_store_migrate.)"""
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kiosk.core.store.migrate import prepare\n"
        "from kiosk.runtime.config import load_config\n"
        "from kiosk.runtime.memory import settle_malloc\n"
        f"config = load_config(Path({str(config_file)!r}), environ={{}})\n"
        "assert prepare(config.database_file)  # made at the head by its child\n"
        "settle_malloc()\n"
        "from screens.app import configure_kivy\n"
        "configure_kivy(config)\n"
        "import screens.kiosk_app, screens.welcome\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(AFTER_THE_FIRST_FRAME)!r}))\n"
    )
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_LOG_MODE": "PYTHON", "KIVY_HOME": str(tmp_path / "kivy")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
