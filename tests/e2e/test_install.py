"""A plain ``pip install .`` (not editable) is a working kiosk and a working central.

An editable install finds everything in the source tree, so it cannot show that a data
file is missing from the package: the seed reference data, the catalogs, the kv files,
the migrations. Here the project is built as a wheel from a copy of what git tracks (plus
the compiled catalogs), installed into a fresh virtual environment, and started from a
folder far from the source tree.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import ROOT

pytestmark = pytest.mark.slow


def _tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    files = [name for name in listed.stdout.split("\0") if name]
    return files + [str(mo.relative_to(ROOT)) for mo in (ROOT / "kiosk" / "locale").glob("*/LC_MESSAGES/*.mo")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A new venv holding the project as an installed wheel. Its dependencies come from
    this test run's own site-packages through a path file (a plain path line: the
    editable install's finder there is not activated), so nothing is downloaded but the
    build backend."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    for name in _tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(site, "test-run-dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    built = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(source)],
                           cwd=work, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-4000:]
    shutil.rmtree(source)  # nothing may be read from a source tree from here on
    return venv


def _environ(tmp_path: Path) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("KIVY_", "KIOSK_", "PYTHON")) and key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_HOME=str(tmp_path / "kivy-home"))
    return environ


def test_installed_kiosk_seeds_its_store_and_draws_welcome(installed, tmp_path):
    """GIVEN the project installed from a wheel, and a fresh data directory
    WHEN the installed ``kiosk`` command runs with --screenshot from an unrelated folder
    THEN every module comes from the venv, the store is created at the current schema and
    seeded with the packaged reference data, and Welcome is drawn."""
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import assets, kiosk, screens, central; print(assets.__file__); print(kiosk.__file__); print(assets.seed_file())"],
        cwd=tmp_path, env=_environ(tmp_path), capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert line.startswith(str(installed)), f"{line} is not inside the installed venv"

    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\n', encoding="utf-8")
    shot = tmp_path / "welcome.png"
    run = subprocess.run([str(installed / "bin" / "kiosk"), "--config", str(config), "run", "--screenshot", str(shot)],
                         cwd=tmp_path, env=_environ(tmp_path), capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-4000:]
    assert shot.stat().st_size > 10_000
    with sqlite3.connect(tmp_path / "data" / "kiosk.sqlite3") as db:
        categories = db.execute("SELECT count(*) FROM categories").fetchone()[0]
        kecamatan = db.execute("SELECT count(*) FROM kecamatan").fetchone()[0]
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert categories > 0 and kecamatan > 0
    from kiosk.core.store.db import SCHEMA_HEAD

    assert revision == SCHEMA_HEAD


def test_installed_central_serves_the_packaged_reference_data(installed, tmp_path):
    """GIVEN the installed project and a new central database
    WHEN the central is asked for its reference data the first time
    THEN it publishes the packaged seed (categories, agencies, kecamatan)."""
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    script = ("import json, sys; from central import service; from central.db import Database, migrate; "
              "db = Database(sys.argv[1]); migrate(db.engine); version, body = service.current_reference(db); "
              "data = json.loads(body); print(version, len(data['categories']), len(data['kecamatan']))")
    run = subprocess.run([str(installed / "bin" / "python"), "-c", script, url],
                         cwd=tmp_path, env=_environ(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-4000:]
    version, categories, kecamatan = run.stdout.split()
    assert version and int(categories) > 0 and int(kecamatan) > 0
