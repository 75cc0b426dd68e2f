"""python-escpos's printer database, read from a cache the kiosk keeps.

On import, ``escpos.capabilities`` (python-escpos 3.1) loads its printer database,
``capabilities.json`` (96 KB), through PyYAML's pure-Python parser: 130 ms on the printer
thread at the first receipt, and 5 MiB of parser objects at its peak for 2.4 MiB of result,
whose freed space stays in the kiosk's heap. It skips the parse when it finds a pickle of the
database, newer than the database, in ``ESCPOS_CAPABILITIES_PICKLE_DIR``; without that
variable it writes the pickle into a new temporary directory of each start (``mkdtemp``),
which the next start does not find. (It makes that directory, empty, even when the variable
is set: the default argument is evaluated first. See :func:`importing_escpos`.)

:func:`keep_printer_database` gives it a directory that lasts (the kiosk's data directory),
with the pickle already in it, written whole: python-escpos writes its own pickle in place,
so a power cut in the middle would leave a torn file that every later start fails to
import, and with it every receipt. Call it once at start-up, before python-escpos is
imported (``kiosk run`` does).

Only the receipt's layout child imports python-escpos (``kiosk.core.receipt``), inside
:func:`importing_escpos`, so that the directory it makes goes with the child. What a
technician's check asks of the database (is this profile known, has it a native QR code)
:func:`printer_profiles` reads without python-escpos, in any process.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import importlib.util
import json
import logging
import os
import pickle
import platform
import sys
import tempfile
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

#: The variable python-escpos reads for its pickle's directory (escpos/capabilities.py).
PICKLE_DIR_VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"
#: The variable python-escpos reads for another database than its own.
DATABASE_FILE_VARIABLE = "ESCPOS_CAPABILITIES_FILE"


@contextlib.contextmanager
def importing_escpos() -> Iterator[None]:
    """Import python-escpos inside this, in a process of one thread: the directory its
    import makes (``mkdtemp()``, even when :data:`PICKLE_DIR_VARIABLE` names another) is
    made in a scratch directory removed on the way out. Without it a layout child left an
    empty directory in ``/tmp`` at every receipt, for as long as the kiosk ran. It points
    ``tempfile`` at the scratch directory while it lasts, for the whole process: never
    in one with other threads."""
    with tempfile.TemporaryDirectory(prefix="escpos-import-") as scratch:
        saved, tempfile.tempdir = tempfile.tempdir, scratch
        try:
            yield
        finally:
            tempfile.tempdir = saved


def printer_profiles(environ: dict[str, str] | None = None) -> dict[str, dict] | None:
    """python-escpos's printer profiles by name (each with its ``features``, ``codePages``,
    ...), read from the database python-escpos reads (its own, or
    :data:`DATABASE_FILE_VARIABLE`'s), without importing python-escpos: the running
    kiosk's technician checks ask it, and that import would stay in its process for good
    (about 9 MiB). None when there is no database to read."""
    environ = os.environ if environ is None else environ
    named = environ.get(DATABASE_FILE_VARIABLE)
    source = Path(named) if named else database_file()
    if source is None:
        return None
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("the printer database %s cannot be read (%s)", source, type(exc).__name__)
        return None
    try:
        data = json.loads(text)
    except ValueError:  # another database may be YAML, as python-escpos reads it
        import yaml

        data = yaml.safe_load(text)
    profiles = data.get("profiles") if isinstance(data, dict) else None
    return profiles if isinstance(profiles, dict) else None


def profile_supports(profiles: dict[str, dict], name: str, feature: str) -> bool:
    """Whether profile ``name`` has ``feature`` (``qrCode``, ``graphics``...), as
    python-escpos's ``Profile.supports`` answers it."""
    return bool((profiles.get(name) or {}).get("features", {}).get(feature))


def database_file() -> Path | None:
    """python-escpos's own ``capabilities.json`` (found as python-escpos finds it, so in the
    bundle too); None when python-escpos is not installed or the file is not on disk."""
    if importlib.util.find_spec("escpos") is None:
        return None
    resource = importlib.resources.files("escpos") / "capabilities.json"
    return Path(str(resource)) if resource.is_file() else None


def pickle_file(directory: Path) -> Path:
    """Where python-escpos looks for its pickle in ``directory`` (its own naming)."""
    return directory / f"{platform.python_version()}.capabilities.pickle"


def keep_printer_database(directory: Path, environ: dict[str, str] | None = None) -> bool:
    """Make ``directory`` python-escpos's pickle directory, with an up-to-date pickle of its
    database in it (see the module). False, and python-escpos left to its own ways, when it
    is already imported, reads another database (``ESCPOS_CAPABILITIES_FILE``), the
    environment already names a directory, or the directory cannot be written."""
    environ = os.environ if environ is None else environ
    if "escpos.capabilities" in sys.modules or DATABASE_FILE_VARIABLE in environ \
            or PICKLE_DIR_VARIABLE in environ:
        return False
    target = pickle_file(directory)
    # The stamp: the digests of the database the pickle was made from and of the pickle
    # itself, so neither a new python-escpos nor a damaged file is ever taken for it.
    stamp = target.with_name(target.name + ".sha256")
    try:
        source = database_file()
        if source is None:
            return False
        text = source.read_bytes()
        source_mtime = source.stat().st_mtime
        made = stamp.read_text(encoding="ascii").split() if stamp.exists() else []
        fresh = target.exists() and target.stat().st_mtime >= source_mtime \
            and made == [_digest(text), _digest(target.read_bytes())]
        if not fresh:
            directory.mkdir(parents=True, exist_ok=True)
            # JSON parsed as JSON (the C parser): the same dicts PyYAML makes of this file.
            data = pickle.dumps(json.loads(text), protocol=pickle.HIGHEST_PROTOCOL)
            _write_whole(target, data)
            # python-escpos takes the pickle only when it is not older than the database:
            # so too under a clock that is behind (no RTC battery, no network time yet).
            os.utime(target, (max(source_mtime, target.stat().st_mtime),) * 2)
            _write_whole(stamp, f"{_digest(text)} {_digest(data)}\n".encode("ascii"))
    except Exception as exc:  # noqa: BLE001 - a cache never stops a kiosk's start
        log.warning("the printer database cannot be cached in %s (%s): python-escpos parses it at "
                    "the first receipt", directory, type(exc).__name__)
        return False
    environ[PICKLE_DIR_VARIABLE] = str(directory)
    return True


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_whole(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)  # whole or not at all
