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

from devices.printer.capabilities import (database_file, keep_printer_database, pickle_file, printer_profiles,
                                          profile_supports)
from tests.support.fresh_print import json_from_a_fresh_process

ROOT = Path(__file__).resolve().parents[2]

#: A kiosk start, as far as the printer goes: the database kept in CACHE (unless "-"),
#: then python-escpos imported as a receipt's layout child imports it (inside
#: ``importing_escpos``; "bare": without it); prints what it loaded.
START = """
import contextlib, json, sys
from pathlib import Path
from devices.printer.capabilities import importing_escpos, keep_printer_database
import os
kept = sys.argv[1] != "-" and keep_printer_database(Path(sys.argv[1]))
variable = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
with (contextlib.nullcontext() if sys.argv[2] == "bare" else importing_escpos()):
    from escpos.capabilities import CAPABILITIES, full_load
print(json.dumps({"kept": kept, "parsed": full_load, "profiles": sorted(CAPABILITIES["profiles"]),
                  "variable": variable}))
"""


def _start(cache: Path | str, tmp: Path, how: str = "child", **environ: str) -> dict:
    """One kiosk start's printer database; ``tmp`` is its TMPDIR."""
    tmp.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ESCPOS_")}
    env.update(TMPDIR=str(tmp), **environ)
    return json_from_a_fresh_process(START, str(cache), how, environ=env, timeout=60)


def _files_in(tmp: Path) -> list[Path]:
    """Everything under ``tmp``, directories too."""
    return sorted(tmp.rglob("*"))


def _profiles() -> list[str]:
    return sorted(json.loads(database_file().read_text(encoding="utf-8"))["profiles"])


def test_a_kiosk_start_leaves_nothing_in_tmp_and_parses_the_database_once(tmp_path):
    """GIVEN a new data directory
    WHEN the kiosk starts twice and prints each time
    THEN the first start writes the database's pickle into the data directory, the second
    reads it without parsing, the profiles are python-escpos's own, and nothing is written
    to TMPDIR, not even a directory (python-escpos alone writes its pickle there, into a new
    directory each start, so that no start finds the last one's; and it makes that directory
    at every import whatever it is told, which a layout child, one per receipt, would leave
    behind for as long as the kiosk runs)."""
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
        started = _start("-", tmp_path / "tmp", "bare")
        assert started["parsed"]
        assert len([path for path in _files_in(tmp_path / "tmp") if path.is_dir()]) == n


def test_python_escpos_makes_a_directory_at_import_even_when_told_where_its_pickle_is(tmp_path):
    """The finding behind ``importing_escpos``, so that a python-escpos that stops doing it
    is noticed: told where its pickle is, it still makes an empty directory in TMPDIR at
    every import (``mkdtemp()`` is its default argument, evaluated first)."""
    cache = tmp_path / "data" / "cache"
    for n in (1, 2):
        _start(cache, tmp_path / "tmp", "bare")
        made = _files_in(tmp_path / "tmp")
        assert len(made) == n and all(path.is_dir() and not any(path.iterdir()) for path in made)


def test_the_technicians_view_of_the_database_is_python_escpos_own():
    """The running kiosk's technician checks read the profiles without python-escpos
    (``printer_profiles``): the same profiles, each with the same native QR code answer."""
    from escpos.capabilities import CAPABILITIES, get_profile

    profiles = printer_profiles()
    assert sorted(profiles) == sorted(CAPABILITIES["profiles"])
    answers = {name: profile_supports(profiles, name, "qrCode") for name in profiles}
    assert answers == {name: bool(get_profile(name).supports("qrCode")) for name in profiles}
    assert set(answers.values()) == {True, False}  # both kinds exist, so both are compared
    assert not profile_supports(profiles, "NO-SUCH-PRINTER", "qrCode")


#: The admin screen's checks, as the running kiosk runs them; prints the printer's row and
#: which heavy modules the process loaded.
ADMIN_CHECKS = """
import json, sys
from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from kiosk.runtime.technician import env_checks
# python-escpos's package itself (its version) is how its database is found: the rest is heavy.
HEAVY = ("escpos.capabilities", "escpos.printer", "escpos.escpos", "yaml", "PIL", "barcode", "qrcode.image.pil")
env = build_env(load_config(sys.argv[1], environ={}))
try:
    rows = {name: (ok, detail) for name, ok, detail, _fix in env.background.submit(lambda: env_checks(env)).result(60)}
finally:
    env.close()
print(json.dumps({"printer": rows["printer"], "loaded": [m for m in HEAVY if m in sys.modules]}))
"""


def test_the_admin_screens_checks_never_load_python_escpos_into_the_kiosk(tmp_path):
    """GIVEN a running kiosk (its process never lays a receipt out: its layout child does)
    WHEN a technician opens the admin screen, whose checks ask whether the printer profile
    is one python-escpos knows
    THEN the printer's row is answered, and python-escpos, PyYAML and Pillow did not load
    into the kiosk's process, where they would have stayed until its next restart."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\n', encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KIOSK_", "ESCPOS_"))}
    checked = json_from_a_fresh_process(ADMIN_CHECKS, str(config), environ=env)
    assert checked["printer"][0] and checked["printer"][1].startswith("file printer"), checked
    assert checked["loaded"] == []


def test_another_database_as_yaml_is_read_as_python_escpos_reads_it(tmp_path):
    named = tmp_path / "printers.yml"
    named.write_text("profiles:\n  KIOSK-58:\n    features:\n      qrCode: false\n", encoding="utf-8")
    profiles = printer_profiles({"ESCPOS_CAPABILITIES_FILE": str(named)})
    assert list(profiles) == ["KIOSK-58"] and not profile_supports(profiles, "KIOSK-58", "qrCode")
    assert printer_profiles({"ESCPOS_CAPABILITIES_FILE": str(tmp_path / "missing.json")}) is None


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
