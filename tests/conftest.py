"""Shared fixtures: a hermetic config, a controllable clock, a real environment, the UI.

Kivy reads its environment at import, so the variables are set here, before any test
module imports Kivy.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.clock import FakeClock
from tests.support.central import central_cli, running_central, secret_key_file


os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")
# Every central and CLI the tests start seals TOTP secrets with one key (central/crypto.py);
# a test of a central without a key takes the variable out of its child's environment.
os.environ["CENTRAL_SECRET_KEY_FILE"] = secret_key_file()



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\n', encoding="utf-8")
    return path


@pytest.fixture
def config(config_file: Path):
    from kiosk.runtime.config import load_config

    return load_config(config_file, environ={})


@pytest.fixture
def store(tmp_path):
    """A kiosk store on a real SQLite file, migrated and seeded with reference data."""
    from kiosk.core import reference
    from kiosk.core.store.db import open_store

    opened = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    reference.load_seed_if_empty(opened)
    yield opened
    opened.close()


@pytest.fixture
def env(config, clock):
    from kiosk.runtime.env import build_env

    environment = build_env(config, now=clock.now, monotonic=clock.monotonic)
    yield environment
    environment.close()


#: Each folder of tests/ holds one kind of test; its tests carry the folder's marker
#: (``pytest -m unit``, ``-m "not e2e"``).
TEST_KINDS = ("unit", "integration", "ui", "e2e")


def pytest_collection_modifyitems(config, items):
    for item in items:
        kind = item.path.parent.name
        if kind in TEST_KINDS:
            item.add_marker(kind)


def pytest_configure(config):
    """Configure Kivy (1280x800, docked keyboard) before any test module imports its window."""
    from screens.app import configure_kivy

    configure_kivy(_default_config())


@pytest.fixture(scope="session")
def kivy_window():
    """The one test window."""
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    return EventLoop.window


def _default_config():
    from kiosk.runtime.config import Config, VARS

    return Config(values={v.key: v.default for v in VARS}, source="tests")


@pytest.fixture
def kiosk(kivy_window, env):
    """The real kiosk app on the test window, torn down after the test."""
    from tests.support.ui_driver import KioskDriver

    driver = KioskDriver(env)
    yield driver
    driver.close()


# -- the central service, run for real ---------------------------------------------



@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """A running central service on SQLite; yields (base URL, database URL, database file)."""
    db_file = tmp_path_factory.mktemp("central") / "central.sqlite3"
    url = f"sqlite:///{db_file}"
    with running_central(url) as base:
        yield base, url, db_file


@pytest.fixture(scope="module")
def token(central):
    _, url, _ = central
    result = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# -- a real PostgreSQL server, started by the tests themselves ----------------------------
@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1, stopped after the run."""
    try:
        with servers.throwaway_postgres() as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))
