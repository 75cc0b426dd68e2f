"""The central service run for real in tests: its CLI, a running server, and small
request helpers (a kiosk's auth header, a valid report body, a batch POST)."""
from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys

import pytest
import requests
from sqlalchemy import create_engine, text

from kiosk.kernel.tracking_id import new_tracking_id

from tests.support import servers
from tests.support.servers import ROOT


def central_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central", "--database-url", url, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def running_central(url: str, *, workers: int = 1, env: dict[str, str] | None = None):
    """``python -m central serve [--workers N]`` on a free port of 127.0.0.1; yields its base URL."""
    try:
        with servers.running_central(url, workers=workers, env=env) as base:
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc))


def secret_key_file() -> str:
    """A new key file for ``--secret-key-file`` (in a folder of its own); returns its path."""
    import tempfile
    from pathlib import Path

    from central.crypto import new_key_file

    path = str(Path(tempfile.mkdtemp(prefix="central-key-")) / "secret.key")
    new_key_file(path)
    return path


def without_secret_key() -> dict[str, str]:
    """The environment of a central or CLI started without a secret key (an empty
    ``CENTRAL_SECRET_KEY_FILE`` is none)."""
    import os

    return {**os.environ, "CENTRAL_SECRET_KEY_FILE": ""}


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def assert_schema_matches_models(db) -> None:
    """The database ``db`` (a ``central.db.Database``) as its migrations left it holds what
    ``central.models`` declares: tables, columns, types and indexes (search's own objects,
    which no model declares, left out)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from central import search
    from central.models import Base

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": search.outside_models})
        assert compare_metadata(context, Base.metadata) == []


def alembic(url: str, revision: str, action: str = "upgrade") -> None:
    """Move the central database at ``url`` to ``revision`` (``action``: upgrade, downgrade
    or stamp), as a test of a migration starts from a database made at an older one."""
    from alembic import command
    from alembic.config import Config

    from central.db import MIGRATIONS, make_engine

    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
    finally:
        engine.dispose()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def report(**changes) -> dict:
    body = {
        "tracking_id": new_tracking_id("MT01"), "kind": "pengaduan", "category_code": "KESEHATAN", "agency_code": None,
        "title": "Antrean puskesmas", "description": "Antrean di puskesmas sangat panjang.",
        "incident_date": "2026-11-20", "kecamatan_code": "LAHEI", "location_text": "", "reporter_name": "Siti Aminah",
        "reporter_phone": "081234567890", "anonymous": False, "confidential": False, "language": "id",
        "created_at": dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.timezone.utc).isoformat(),
    }
    body.update(changes)
    return body


def send(base: str, token: str, *reports: dict) -> list[dict]:
    response = requests.post(f"{base}/api/v1/reports", json={"reports": list(reports)}, headers=auth(token), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def env_synced_to(tmp_path, central_url: str, token: str, clock):
    """The kiosk's environment with a central configured (a real one, or our proxy in
    front of it), on the test's clock."""
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env

    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\n'
                           f'central_url = "{central_url}"\ncentral_token = "{token}"\n', encoding="utf-8")
    return build_env(load_config(config_file, environ={}), now=clock.now, monotonic=clock.monotonic)
