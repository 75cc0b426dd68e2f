"""python-escpos's printer database, kept in the kiosk's data directory
(:mod:`devices.printer.capabilities`).

Each case imports python-escpos in a new Python process, as a kiosk does once per start:
python-escpos reads its database at import, and this test process may have done so already.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from devices.printer.capabilities import database_file, keep_printer_database, pickle_file

ROOT = Path(__file__).resolve().parents[2]

#: A kiosk start, as far as the printer goes: the database kept in CACHE (unless "-"),
#: then python-escpos imported as the first receipt imports it; prints what it loaded.
START = """
import json, sys
from pathlib import Path
from devices.printer.capabilities import keep_printer_database
import os
kept = sys.argv[1] != "-" and keep_printer_database(Path(sys.argv[1]))
variable = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
from escpos.capabilities import CAPABILITIES, full_load
print(json.dumps({"kept": kept, "parsed": full_load, "profiles": sorted(CAPABILITIES["profiles"]),
                  "variable": variable}))
"""


def _start(cache: Path | str, tmp: Path, **environ: str) -> dict:
    """One kiosk start's printer database; ``tmp`` is its TMPDIR."""
    tmp.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ESCPOS_")}
    env.update(TMPDIR=str(tmp), PYTHONPATH=str(ROOT), **environ)
    result = subprocess.run([sys.executable, "-c", START, str(cache)], env=env, capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _files_in(tmp: Path) -> list[Path]:
    """The files under ``tmp``. Directories are not counted: python-escpos 3.1 makes an
    empty one at every import whatever it is told (its default argument, ``mkdtemp()``,
    is made before the variable is read); under systemd's PrivateTmp it goes with the
    service."""
    return sorted(path for path in tmp.rglob("*") if not path.is_dir())


def _profiles() -> list[str]:
    return sorted(json.loads(database_file().read_text(encoding="utf-8"))["profiles"])


def test_a_kiosk_start_leaves_nothing_in_tmp_and_parses_the_database_once(tmp_path):
    """GIVEN a new data directory
    WHEN the kiosk starts twice and prints each time
    THEN the first start writes the database's pickle into the data directory, the second
    reads it without parsing, the profiles are python-escpos's own, and nothing is written
    to TMPDIR (python-escpos alone writes its pickle there, into a new directory each start,
    so that no start finds the last one's)."""
    cache = tmp_path / "data" / "cache"
    first = _start(cache, tmp_path / "tmp1")
    second = _start(cache, tmp_path / "tmp2")

    assert first["kept"] and second["kept"]
    assert not first["parsed"] and not second["parsed"], "python-escpos parsed its database with PyYAML"
    assert first["profiles"] == second["profiles"] == _profiles()
    assert pickle_file(cache).is_file()
    assert _files_in(tmp_path / "tmp1") == [] and _files_in(tmp_path / "tmp2") == []


def test_without_it_python_escpos_parses_and_leaves_a_directory_every_start(tmp_path):
    """The finding itself, so that a python-escpos that stops doing this is noticed: each
    start without the kept database parses it and writes its pickle into a new directory."""
    for n in (1, 2):
        started = _start("-", tmp_path / "tmp")
        assert started["parsed"]
        assert len(_files_in(tmp_path / "tmp")) == n


def test_a_torn_or_damaged_pickle_is_made_again_and_printing_still_works(tmp_path):
    """GIVEN a pickle cut short by a power failure, then one with a byte changed
    WHEN the kiosk starts
    THEN the pickle is made again from python-escpos's database and every profile loads."""
    cache = tmp_path / "cache"
    _start(cache, tmp_path / "tmp")
    whole = pickle_file(cache).read_bytes()

    pickle_file(cache).write_bytes(whole[: len(whole) // 2])
    assert _start(cache, tmp_path / "tmp")["profiles"] == _profiles()
    assert pickle_file(cache).read_bytes() == whole

    damaged = bytearray(whole)
    damaged[len(damaged) // 2] ^= 0x01
    pickle_file(cache).write_bytes(bytes(damaged))
    assert _start(cache, tmp_path / "tmp")["profiles"] == _profiles()
    assert pickle_file(cache).read_bytes() == whole
    assert _files_in(tmp_path / "tmp") == []


def test_a_clock_behind_the_database_still_gets_the_pickle_taken(tmp_path):
    """GIVEN a kiosk whose clock is behind (no RTC battery, no network time yet), so the
    pickle it wrote is older than python-escpos's database
    WHEN it starts
    THEN python-escpos still takes the pickle, without parsing it: the kiosk dates its
    pickle no earlier than the database."""
    cache = tmp_path / "cache"
    _start(cache, tmp_path / "tmp")
    source_mtime = database_file().stat().st_mtime
    os.utime(pickle_file(cache), (source_mtime - 86400,) * 2)  # as if written a day "before" the install

    started = _start(cache, tmp_path / "tmp")

    assert started["kept"] and not started["parsed"]
    assert pickle_file(cache).stat().st_mtime >= source_mtime


def test_an_unwritable_data_directory_leaves_python_escpos_to_itself(tmp_path):
    """GIVEN a cache directory that cannot be made (a file stands where it would be)
    WHEN the kiosk starts
    THEN it sets nothing, and receipts still get their profiles (python-escpos parses)."""
    blocker = tmp_path / "data"
    blocker.write_text("not a directory", encoding="utf-8")
    started = _start(blocker / "cache", tmp_path / "tmp")
    assert not started["kept"] and started["variable"] is None
    assert started["parsed"] and started["profiles"] == _profiles()


def test_a_technicians_own_setting_wins(tmp_path):
    """ESCPOS_CAPABILITIES_PICKLE_DIR or ESCPOS_CAPABILITIES_FILE set by hand is left alone:
    the kiosk keeps nothing of its own and python-escpos does as it is told."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    started = _start(tmp_path / "cache", tmp_path / "tmp", ESCPOS_CAPABILITIES_PICKLE_DIR=str(theirs))
    assert not started["kept"] and started["variable"] == str(theirs) and started["parsed"]
    assert pickle_file(theirs).is_file()
    started = _start(tmp_path / "cache", tmp_path / "tmp", ESCPOS_CAPABILITIES_FILE=str(database_file()))
    assert not started["kept"] and started["profiles"] == _profiles()
    assert not (tmp_path / "cache").exists()


def test_a_kiosk_that_has_loaded_python_escpos_already_is_left_as_it_is(tmp_path):
    """Once python-escpos is imported its database is read: nothing is written or set."""
    import escpos.capabilities  # noqa: F401 - as a process that printed before

    environ: dict[str, str] = {}
    assert keep_printer_database(tmp_path / "cache", environ=environ) is False
    assert environ == {} and not (tmp_path / "cache").exists()


def test_kiosk_run_keeps_the_database_in_its_data_directory(tmp_path):
    """GIVEN a fresh data directory
    WHEN ``kiosk run`` starts (and draws Welcome)
    THEN the printer database's pickle is in ``<data dir>/cache`` before any receipt, and
    the start wrote nothing to TMPDIR."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\n', encoding="utf-8")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KIVY_", "KIOSK_", "ESCPOS_")) and key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_HOME=str(tmp_path / "kivy-home"), TMPDIR=str(tmp))
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(config), "run",
                             "--screenshot", str(tmp_path / "welcome.png")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-4000:]
    assert pickle_file(tmp_path / "data" / "cache").is_file()
    assert _files_in(tmp) == []
