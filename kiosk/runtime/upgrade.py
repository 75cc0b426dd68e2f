"""``kiosk upgrade``: a signed release replaces the kiosk's code, or rolls back by itself.

A release (made by ``deploy/build_release.py``) is a folder or a URL holding
``manifest.json``, its Ed25519 signature ``manifest.json.sig`` and the archives it names:
the code (``app/``: a few MB) and, only when the dependencies changed, the runtime (the
frozen interpreter and third-party packages). On the kiosk (docs/DEPLOY.md, "Update")::

    /opt/lapor-kiosk/runtimes/<runtime id>/   kiosk, _internal/, runtime.json (never written again)
    /opt/lapor-kiosk/releases/<version>/      hard links to one runtime's files, app/, manifest
    /opt/lapor-kiosk/current -> releases/<version>     /opt/lapor-kiosk/kiosk -> current/kiosk

Nothing is replaced before the signature, every archive's size and SHA-256, the runtime and
the store's schema check out, and the new release directory is complete. Then the service
stops, the database is copied aside, ``current`` is switched by one rename, the service
starts, and the release must be healthy within a minute: systemd says the unit is active
(``Type=notify``: the kiosk said READY=1 after Welcome's first frame) and its status line
starts with "ready" (the store is open). Otherwise ``current`` goes back, with the
database copy if the failed release migrated the store, since the older code cannot open a
schema it does not know.

No Kivy here, and nothing but the standard library and ``cryptography``.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
MANIFEST_FORMAT = 1
DEFAULT_ROOT = Path("/opt/lapor-kiosk")
DEFAULT_PUBLIC_KEY = Path("/etc/lapor-kiosk/release.pub")
DEFAULT_UNIT = "lapor-kiosk.service"
HEALTH_TIMEOUT_S = 60.0
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
_RUNTIME = re.compile(r"^[0-9a-f]{16}$")
_CHUNK = 1 << 20


class UpgradeError(Exception):
    """The upgrade was refused or failed; the message says why, for the technician."""


@dataclasses.dataclass(frozen=True)
class Archive:
    kind: str  # "code" or "runtime"
    name: str
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What a release is: its version, the runtime its code needs, the store revisions its
    migrations know, and its archives."""

    version: str
    runtime: str
    schema_revisions: tuple[str, ...]
    archives: tuple[Archive, ...]

    def archive(self, kind: str) -> Archive | None:
        return next((a for a in self.archives if a.kind == kind), None)

    @classmethod
    def parse(cls, raw: bytes) -> "Manifest":
        try:
            data = json.loads(raw)
            if data["format"] != MANIFEST_FORMAT:
                raise UpgradeError(f"manifest format {data['format']} is not {MANIFEST_FORMAT}: a newer tool made it")
            archives = tuple(Archive(str(a["kind"]), str(a["name"]), str(a["sha256"]), int(a["size"]))
                             for a in data["archives"])
            manifest = cls(str(data["version"]), str(data["runtime"]), tuple(map(str, data["schema_revisions"])),
                           archives)
        except (ValueError, KeyError, TypeError) as exc:
            raise UpgradeError(f"the manifest is malformed ({type(exc).__name__}: {exc})") from None
        if not _VERSION.match(manifest.version) or not _RUNTIME.match(manifest.runtime):
            raise UpgradeError("the manifest's version or runtime is not a plain name")
        if manifest.archive("code") is None:
            raise UpgradeError("the manifest names no code archive")
        for archive in archives:
            if archive.kind not in ("code", "runtime") or "/" in archive.name or archive.name.startswith("."):
                raise UpgradeError(f"the manifest names an archive it may not: {archive.name!r}")
        return manifest


# --- signatures ---------------------------------------------------------------------------

def load_public_key(path: Path):
    """The release signing key's public half (PEM, as ``build_release.py keygen`` writes it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise UpgradeError(f"cannot read the release public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UpgradeError(f"{path} is not an Ed25519 public key")
    return key


def verify_manifest(raw: bytes, signature: bytes, public_key) -> Manifest:
    """The manifest, only if ``signature`` (base64 of the Ed25519 signature) is the key's."""
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(base64.b64decode(signature.strip(), validate=True), raw)
    except (InvalidSignature, ValueError):
        raise UpgradeError("the release's signature does not match the manifest and this kiosk's key: refused") \
            from None
    return Manifest.parse(raw)


def sign_manifest(raw: bytes, private_key) -> bytes:
    """What ``manifest.json.sig`` holds (for ``build_release.py``)."""
    return base64.b64encode(private_key.sign(raw)) + b"\n"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for chunk in iter(lambda: data.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- fetching -----------------------------------------------------------------------------

def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_small(source: str, name: str) -> bytes:
    """The manifest or its signature from the release folder or URL."""
    if _is_url(source):
        with urllib.request.urlopen(source.rstrip("/") + "/" + name, timeout=60) as response:
            return response.read(1 << 20)
    try:
        return (Path(source) / name).read_bytes()
    except OSError as exc:
        raise UpgradeError(f"cannot read {name} from {source}: {exc.strerror}") from None


def fetch(source: str, archive: Archive, staging: Path) -> Path:
    """``archive`` in ``staging``, checked. Over HTTP a partial file left by a broken link is
    resumed (``Range``), not fetched again; a file with the right hash is not fetched at all."""
    target = staging / archive.name
    if not _is_url(source):
        target = Path(source) / archive.name
    elif not (target.is_file() and target.stat().st_size == archive.size and sha256_of(target) == archive.sha256):
        if target.is_file() and target.stat().st_size > archive.size:
            target.unlink()
        for attempt in range(8):
            have = target.stat().st_size if target.is_file() else 0
            if have >= archive.size:
                break
            request = urllib.request.Request(source.rstrip("/") + "/" + archive.name,
                                             headers={"Range": f"bytes={have}-"} if have else {})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    mode = "ab" if have and response.status == 206 else "wb"
                    with open(target, mode) as out:
                        shutil.copyfileobj(response, out, _CHUNK)
            except (OSError, http.client.HTTPException) as exc:  # a cut link: go on from where it stopped
                log.warning("download of %s broke off (%s); resuming", archive.name, exc)
            else:
                if target.stat().st_size >= archive.size:
                    break
                log.warning("download of %s ended early; resuming", archive.name)
            time.sleep(min(30, 2 ** attempt))
    if not target.is_file():
        raise UpgradeError(f"{archive.name} is missing from the release")
    if target.stat().st_size != archive.size or sha256_of(target) != archive.sha256:
        raise UpgradeError(f"{archive.name} does not match the signed manifest (size or SHA-256): refused")
    return target


def _extract(archive: Path, target: Path) -> None:
    """Unpack with the ``data`` filter: no absolute paths, no ``..``, no links out, no devices."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise UpgradeError(f"cannot unpack {archive.name}: {exc}") from None


# --- the kiosk's folders ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def runtimes(self) -> Path:
        return self.root / "runtimes"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def previous(self) -> Path:
        return self.root / "previous"

    def target(self, link: Path) -> Path | None:
        """The release directory a link points to, or None."""
        return (link.parent / os.readlink(link)).resolve() if link.is_symlink() else None


def _switch(link: Path, release: Path) -> None:
    """Point ``link`` at ``release`` with one rename: at every moment it names a whole release."""
    temporary = link.with_name(f".{link.name}.new")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(os.path.relpath(release, link.parent))
    os.replace(temporary, link)


def install_runtime(layout: Layout, archive: Path, runtime: str) -> Path:
    """``runtimes/<runtime>`` from its archive (once; it is never written again)."""
    final = layout.runtimes / runtime
    unpacking = layout.runtimes / f".{runtime}.unpacking"
    shutil.rmtree(unpacking, ignore_errors=True)
    unpacking.mkdir(parents=True)
    _extract(archive, unpacking)
    said = _runtime_of(unpacking)
    if said != runtime:
        shutil.rmtree(unpacking)
        raise UpgradeError(f"the runtime archive holds runtime {said}, not {runtime}: refused")
    os.replace(unpacking, final)
    return final


def _runtime_of(folder: Path) -> str | None:
    try:
        return json.loads((folder / "runtime.json").read_text(encoding="utf-8"))["runtime"]
    except (OSError, ValueError, KeyError):
        return None


def build_release_dir(layout: Layout, manifest: Manifest, code: Path, raw: bytes, signature: bytes) -> Path:
    """``releases/<version>``: hard links to the runtime's files (no space taken), then app/."""
    runtime = layout.runtimes / manifest.runtime
    final = layout.releases / manifest.version
    building = layout.releases / f".{manifest.version}.building"
    shutil.rmtree(building, ignore_errors=True)
    layout.releases.mkdir(parents=True, exist_ok=True)
    shutil.copytree(runtime, building, symlinks=True, copy_function=os.link)
    _extract(code, building)
    if not (building / "app" / "kiosk" / "launcher.py").is_file():
        shutil.rmtree(building)
        raise UpgradeError("the code archive holds no app/kiosk: refused")
    (building / MANIFEST).write_bytes(raw)
    (building / SIGNATURE).write_bytes(signature)
    if final.exists():
        shutil.rmtree(final)
    os.replace(building, final)
    return final


def _manifest_of(release: Path | None) -> Manifest | None:
    try:
        return Manifest.parse((release / MANIFEST).read_bytes()) if release else None
    except (OSError, UpgradeError):
        return None


# --- the store ----------------------------------------------------------------------------

def _query(db_file: Path, sql: str) -> list[tuple] | None:
    """Rows of ``sql`` read from a copy of the database (never writes beside the kiosk's
    database: a root-owned -wal or -shm file would lock the kiosk out); None if unreadable."""
    if not db_file.is_file():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / db_file.name
        _copy_database(db_file, copy)
        conn = sqlite3.connect(copy)
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.Error:
            return None
        finally:
            conn.close()


def schema_revision(db_file: Path) -> str | None:
    """The store's Alembic revision."""
    rows = _query(db_file, "SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None


def _tracking_ids(db_file: Path) -> set[str]:
    return {row[0] for row in _query(db_file, "SELECT tracking_id FROM reports") or []}


def _copy_database(source: Path, target: Path) -> None:
    """The database file and its write-ahead log, as they are (the kiosk is stopped)."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").is_file():
            shutil.copy2(f"{source}{suffix}", f"{target}{suffix}")
        elif Path(f"{target}{suffix}").is_file():
            os.unlink(f"{target}{suffix}")


def snapshot_path(db_file: Path) -> Path:
    return db_file.with_name(db_file.name + ".before-upgrade")


def restore_database(db_file: Path, failed_version: str) -> int:
    """Put the copy taken before the switch back, owned as the database was. The database
    the failed release left is kept beside it; returns how many reports it holds that the
    copy does not (filed in the minute the failed release ran), 0 when none."""
    snapshot = snapshot_path(db_file)
    stat = db_file.stat() if db_file.exists() else snapshot.stat()
    newer = len(_tracking_ids(db_file) - _tracking_ids(snapshot))
    _copy_database(db_file, db_file.with_name(f"{db_file.name}.from-{failed_version}"))
    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    restoring = db_file.with_name(db_file.name + ".restoring")
    _copy_database(snapshot, restoring)
    for suffix in ("-wal", ""):  # the log first: the database never meets a log not its own
        if Path(f"{restoring}{suffix}").is_file():
            os.chown(f"{restoring}{suffix}", stat.st_uid, stat.st_gid)
            os.replace(f"{restoring}{suffix}", f"{db_file}{suffix}")
    return newer


# --- the service --------------------------------------------------------------------------

class Service(Protocol):
    """What the upgrade needs from whatever runs the kiosk."""

    def stop(self) -> None: ...

    def start(self) -> None: ...

    def wait_healthy(self, timeout_s: float) -> bool: ...


class SystemdService:
    """The unit of deploy/lapor-kiosk.service. Healthy: ActiveState=active, which with
    ``Type=notify`` means the kiosk said READY=1 (Welcome drawn), and a status line that
    starts with "ready" (the store is open), with no restart on the way."""

    def __init__(self, unit: str = DEFAULT_UNIT):
        self.unit = unit
        self._restarts = 0

    def _systemctl(self, *args: str) -> str:
        done = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0 and args[0] != "show":
            raise UpgradeError(f"systemctl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def show(self) -> dict[str, str]:
        out = self._systemctl("show", self.unit, "-p", "ActiveState", "-p", "SubState", "-p", "StatusText",
                              "-p", "NRestarts")
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def stop(self) -> None:
        self._systemctl("stop", self.unit)

    def start(self) -> None:
        state = self.show()
        if state.get("ActiveState") == "failed":
            self._systemctl("reset-failed", self.unit)
        self._restarts = int(state.get("NRestarts") or 0)
        self._systemctl("start", "--no-block", self.unit)

    def wait_healthy(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.show()
            if state.get("ActiveState") == "failed" or int(state.get("NRestarts", "0") or 0) > self._restarts:
                return False
            if state.get("ActiveState") == "active" and state.get("StatusText", "").startswith("ready"):
                return True
            time.sleep(1)
        return False


# --- the upgrade --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Outcome:
    version: str
    healthy: bool
    rolled_back_to: str | None = None
    database_restored: bool = False
    back_healthy: bool | None = None  # after a rollback: the release gone back to is healthy
    reports_set_aside: int = 0  # filed under the failed release, in kiosk.sqlite3.from-<version>

    @property
    def exit_code(self) -> int:
        return 0 if self.healthy else 1


def upgrade(source: str, *, root: Path, public_key, service: Service, database: Path,
            health_timeout_s: float = HEALTH_TIMEOUT_S) -> Outcome:
    """Install the release at ``source`` and switch to it, or refuse with nothing replaced
    (UpgradeError), or roll back to the release before (``Outcome.rolled_back_to``)."""
    layout = Layout(Path(root))
    raw, signature = read_small(source, MANIFEST), read_small(source, SIGNATURE)
    manifest = verify_manifest(raw, signature, public_key)
    before, before_previous = layout.target(layout.current), layout.target(layout.previous)
    if before is not None and before.name == manifest.version:
        raise UpgradeError(f"release {manifest.version} is already the current one")
    revision = schema_revision(database)
    if revision is not None and revision not in manifest.schema_revisions:
        raise UpgradeError(f"release {manifest.version} does not know the store's schema revision {revision} "
                           "(a downgrade past a migration): refused")

    layout.staging.mkdir(parents=True, exist_ok=True)
    if not (layout.runtimes / manifest.runtime).is_dir():
        wanted = manifest.archive("runtime")
        if wanted is None:
            raise UpgradeError(f"release {manifest.version} needs runtime {manifest.runtime}, which this kiosk "
                               "does not have and the release does not carry: use the full release")
        install_runtime(layout, fetch(source, wanted, layout.staging), manifest.runtime)
    code = fetch(source, manifest.archive("code"), layout.staging)
    release = build_release_dir(layout, manifest, code, raw, signature)
    log.info("release %s prepared in %s", manifest.version, release)

    service.stop()
    try:
        if database.is_file():
            _copy_database(database, snapshot_path(database))
        if before is not None:
            _switch(layout.previous, before)
        _switch(layout.current, release)
        if not (layout.root / "kiosk").exists() and not (layout.root / "kiosk").is_symlink():
            (layout.root / "kiosk").symlink_to("current/kiosk")
    except OSError as exc:  # e.g. a full disk for the copy: the kiosk goes on as it was
        if before is not None:
            _switch(layout.current, before)
        if before_previous is not None:
            _switch(layout.previous, before_previous)
        service.start()
        raise UpgradeError(f"cannot switch to release {manifest.version} ({exc}): still on the release before") \
            from None
    service.start()
    if service.wait_healthy(health_timeout_s):
        log.info("release %s is healthy", manifest.version)
        snapshot_path(database).unlink(missing_ok=True)
        Path(f"{snapshot_path(database)}-wal").unlink(missing_ok=True)
        _prune(layout)
        return Outcome(manifest.version, healthy=True)

    log.error("release %s did not become healthy (it stopped, or %.0f s passed)", manifest.version,
              health_timeout_s)
    if before is None:
        return Outcome(manifest.version, healthy=False)
    service.stop()
    restored, set_aside = False, 0
    if database.is_file() and schema_revision(database) != revision:
        # the failed release migrated the store: the older code cannot open it
        set_aside = restore_database(database, manifest.version)
        restored = True
        if set_aside:
            log.error("%d reports filed under release %s are only in %s.from-%s", set_aside, manifest.version,
                      database.name, manifest.version)
    _switch(layout.current, before)
    if before_previous is not None:
        _switch(layout.previous, before_previous)
    else:
        layout.previous.unlink(missing_ok=True)
    service.start()
    back_healthy = service.wait_healthy(health_timeout_s)
    if not back_healthy:
        log.error("the previous release %s is not healthy either", before.name)
    return Outcome(manifest.version, healthy=False, rolled_back_to=before.name, database_restored=restored,
                   back_healthy=back_healthy, reports_set_aside=set_aside)


def _prune(layout: Layout) -> None:
    """Keep the current and the previous release, and the runtimes they use; the staged
    archives go (a new release comes with its own)."""
    keep = {p for p in (layout.target(layout.current), layout.target(layout.previous)) if p}
    for release in layout.releases.iterdir():
        if release.resolve() not in keep:
            shutil.rmtree(release, ignore_errors=True)
    used = {_runtime_of(release) for release in keep}
    for runtime in layout.runtimes.iterdir():
        if runtime.name not in used:
            shutil.rmtree(runtime, ignore_errors=True)
    shutil.rmtree(layout.staging, ignore_errors=True)


def run(source: str, *, database: Path, root: Path | None = None, public_key_file: Path | None = None,
        unit: str | None = None, timeout_s: float | None = None) -> int:
    """``kiosk upgrade``: one line for the technician, exit code 0 (healthy), 1 (rolled back
    or failed), 2 (refused: nothing was replaced)."""
    root, public_key_file = root or DEFAULT_ROOT, public_key_file or DEFAULT_PUBLIC_KEY
    unit, timeout_s = unit or DEFAULT_UNIT, timeout_s or HEALTH_TIMEOUT_S
    try:
        outcome = upgrade(source, root=root, public_key=load_public_key(public_key_file),
                          service=SystemdService(unit), database=database, health_timeout_s=timeout_s)
    except UpgradeError as exc:
        print(f"kiosk upgrade: {exc}")
        return 2
    if outcome.healthy:
        print(f"kiosk upgrade: release {outcome.version} is running and healthy")
    elif outcome.rolled_back_to:
        print(f"kiosk upgrade: release {outcome.version} did not become healthy; back on release "
              f"{outcome.rolled_back_to}" + (" with the database as it was before" if outcome.database_restored
                                             else "") + ("" if outcome.back_healthy else ", which is not healthy "
                                                         "either (see journalctl -u lapor-kiosk)"))
        if outcome.reports_set_aside:
            print(f"kiosk upgrade: {outcome.reports_set_aside} reports filed under release {outcome.version} are "
                  f"not in the database put back, only in {database.name}.from-{outcome.version}: keep that file")
    else:
        print(f"kiosk upgrade: release {outcome.version} did not become healthy, and there is no release "
              "to go back to (see journalctl -u lapor-kiosk)")
    return outcome.exit_code
