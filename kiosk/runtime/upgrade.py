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

The technician's two other commands: ``--rollback`` makes the previous release current
again the same way (:func:`rollback`), and ``--recover PATH`` copies the reports a failed
release's database holds alone (``kiosk.sqlite3.from-<version>``) into the kiosk's
(:func:`recover_reports`).

No Kivy here. Importing it takes nothing but the standard library (and ``cryptography``
for signatures); the outbox's count and the recovery read the store's own definitions
(SQLAlchemy models), imported when they run.
"""
from __future__ import annotations

import base64
import dataclasses
import glob
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
    switched_from: str | None = None  # the release that was current before
    waiting: int | None = None  # waiting to be sent (``kiosk queue``'s count) when the service stopped

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
    before = layout.target(layout.current)
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
    outcome = _switch_over(layout, release, manifest.version, service=service, database=database,
                           revision=revision, health_timeout_s=health_timeout_s)
    if outcome.healthy:
        _prune(layout)
    return outcome


def _switch_over(layout: Layout, release: Path, version: str, *, service: Service, database: Path,
                 revision: str | None, health_timeout_s: float) -> Outcome:
    """Make ``release`` current and the current one ``previous``, around a stop and a start
    of the service, with the database copied aside; then wait for health. Not healthy:
    ``current`` and ``previous`` go back, with the database copy if the release migrated
    the store (``revision``: the store's before), and the release before starts again."""
    before, before_previous = layout.target(layout.current), layout.target(layout.previous)
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
        raise UpgradeError(f"cannot switch to release {version} ({exc}): still on the release before") from None
    waiting = _waiting_count(snapshot_path(database))
    switched_from = before.name if before is not None else None
    service.start()
    if service.wait_healthy(health_timeout_s):
        log.info("release %s is healthy", version)
        snapshot_path(database).unlink(missing_ok=True)
        Path(f"{snapshot_path(database)}-wal").unlink(missing_ok=True)
        return Outcome(version, healthy=True, switched_from=switched_from, waiting=waiting)

    log.error("release %s did not become healthy (it stopped, or %.0f s passed)", version, health_timeout_s)
    if before is None:
        return Outcome(version, healthy=False, waiting=waiting)
    service.stop()
    restored, set_aside = False, 0
    if database.is_file() and schema_revision(database) != revision:
        # the failed release migrated the store: the older code cannot open it
        set_aside = restore_database(database, version)
        restored = True
        if set_aside:
            log.error("%d reports filed under release %s are only in %s.from-%s", set_aside, version,
                      database.name, version)
    _switch(layout.current, before)
    if before_previous is not None:
        _switch(layout.previous, before_previous)
    else:
        layout.previous.unlink(missing_ok=True)
    service.start()
    back_healthy = service.wait_healthy(health_timeout_s)
    if not back_healthy:
        log.error("the release before, %s, is not healthy either", before.name)
    return Outcome(version, healthy=False, rolled_back_to=before.name, database_restored=restored,
                   back_healthy=back_healthy, reports_set_aside=set_aside, switched_from=switched_from,
                   waiting=waiting)


def _waiting_count(db_file: Path) -> int | None:
    """What the outbox counts as waiting (``kiosk queue``'s number), read from a copy of
    ``db_file`` by the outbox's own query; None when there is no database or it is unreadable."""
    if not db_file.is_file():
        return None
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from sync_queue.outbox import Outbox

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / db_file.name
        _copy_database(db_file, copy)
        engine = create_engine(f"sqlite:///{copy}")
        try:
            return Outbox(engine).count_waiting()
        except SQLAlchemyError:
            return None
        finally:
            engine.dispose()


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


# --- going back by hand -------------------------------------------------------------------

def rollback(*, root: Path, service: Service, database: Path, health_timeout_s: float = HEALTH_TIMEOUT_S) -> Outcome:
    """The technician's ``kiosk upgrade --rollback``: make ``previous`` current again, around
    a stop and a start of the service, and wait for health as an upgrade does (not healthy:
    back to where it was, the database copy included if that release migrated the store).

    Refused (UpgradeError, nothing changed, the service untouched) when there is no
    previous release, its folder is incomplete, or its manifest's ``schema_revisions`` do
    not hold the store's revision: its code could not open the store, and the kiosk would
    stay out of service. The store itself is not touched: every queued report is there
    for the release gone back to.

    Afterwards the release rolled back from becomes ``previous``: the two swap. Only two
    releases are kept on a kiosk, so "back two releases" cannot exist anyway; keeping the
    one left means a technician who went back by mistake, or once the problem is
    understood, goes forward again with the same command, with no download, and the next
    ``kiosk upgrade`` prunes it as usual."""
    layout = Layout(Path(root))
    current, target = layout.target(layout.current), layout.target(layout.previous)
    if target is None:
        raise UpgradeError(f"there is no previous release to go back to ({layout.previous} is missing)")
    manifest = _manifest_of(target)
    if manifest is None or not (target / "app" / "kiosk" / "launcher.py").is_file():
        raise UpgradeError(f"the previous release's folder {target} is missing or incomplete")
    if current is None or current == target:
        raise UpgradeError(f"{layout.current} does not name a release other than {target.name}")
    revision = schema_revision(database)
    if revision is not None and revision not in manifest.schema_revisions:
        raise UpgradeError(f"release {manifest.version} does not know the store's schema revision {revision} "
                           f"(release {current.name} migrated it): its code could not open the database. Fix "
                           "forward instead: `kiosk upgrade <folder or URL>` of a release that knows it "
                           "(docs/DEPLOY.md, Update, Going back by hand)")
    log.info("going back from release %s to release %s", current.name, manifest.version)
    return _switch_over(layout, target, manifest.version, service=service, database=database, revision=revision,
                        health_timeout_s=health_timeout_s)


# --- reports kept only in a set-aside database ---------------------------------------------

@dataclasses.dataclass(frozen=True)
class Recovery:
    """What ``recover_reports`` did."""

    reports: int  # copied into the database, waiting to be sent
    feedback: int  # objections and ratings copied, waiting to be sent
    already_here: int  # reports in both files: left as the database has them
    delivered: int  # reports only in the file, which the central had confirmed: not copied
    renamed_to: Path


def _recovery_tables() -> tuple[str, ...]:
    """The tables whose rows hang on a report or an objection or rating, in the order they
    are copied (each after what its foreign keys name): reports, voice_notes, remote_status,
    feedback, outbox. Named by the store's own models."""
    from kiosk.core.store.models import Feedback, RemoteStatus, Report, VoiceNote
    from sync_queue.outbox import OutboxEntry

    return (Report.__tablename__, VoiceNote.__tablename__, RemoteStatus.__tablename__, Feedback.__tablename__,
            OutboxEntry.__tablename__)


RECOVERED_SUFFIX = ".recovered"
BUSY_TIMEOUT_S = 30.0


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> dict[str, tuple]:
    """``table``'s columns in ``schema`` (main or aside): name -> PRAGMA table_info row."""
    return {row[1]: row for row in conn.execute(f"PRAGMA {schema}.table_info({table})")}


def _copyable(conn: sqlite3.Connection, table: str, *, skip: tuple[str, ...] = ()) -> list[str] | None:
    """The columns of ``table`` the two files share (the set-aside one may have more, from
    a newer schema, and they are left out); None when the file has no such table. An
    UpgradeError when the database requires a column the file lacks (NOT NULL, no default)."""
    here, there = _columns(conn, "main", table), _columns(conn, "aside", table)
    if not there or not here:
        return None
    missing = [name for name, (_cid, _n, kind, notnull, default, pk) in here.items()
               if name not in there and notnull and default is None and not (pk and kind.upper() == "INTEGER")]
    if missing:
        raise UpgradeError(f"the file's table {table} has no {', '.join(missing)}, which this release's database "
                           "requires: nothing was copied (recover with a release whose schema the file has)")
    return [name for name in here if name in there and name not in skip]


def recover_reports(set_aside: Path, *, database: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Recovery:
    """Copy into ``database`` what only ``set_aside`` holds and is still to be delivered:
    each report (by Tracking ID) with its outbox entry, recording and kept status, and each
    objection or rating (by its key) with its entry. Never a duplicate: what both hold
    stays as the database has it, so a second run copies nothing. Then ``set_aside`` is
    renamed ``<name>.recovered``, so that it is not recovered again by accident (kept, not
    deleted: it is the only copy of anything this got wrong).

    Works with the kiosk running: one ``BEGIN IMMEDIATE`` transaction on the database (the
    kiosk's writers wait for it, as it waits ``busy_timeout_s`` for theirs), all or nothing.
    The file is read from a copy, never written. The file may be at a newer schema (a failed
    release migrated it): only the columns the database has are copied. Sealed values are
    copied as they are: both files use this kiosk's key.

    Not copied: a report whose entry the central had confirmed (``sent``): the central has
    it, and the kiosk may have forgotten it since on purpose (``delivered_retention_days``).
    An entry the failed release was ``sending`` is ``pending`` again; ``failed`` ones stay
    failed, with their reason, for ``kiosk admin retry-failed``."""
    set_aside, database = Path(set_aside), Path(database)
    if not set_aside.is_file():
        done = _recovered_name(set_aside, existing=True)
        raise UpgradeError(f"{set_aside} does not exist" + (f" (recovered already: {done.name})" if done else ""))
    if not database.is_file():
        raise UpgradeError(f"there is no database at {database} to recover into")
    if set_aside.resolve() == database.resolve():
        raise UpgradeError(f"{set_aside} is the kiosk's own database")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "set-aside.sqlite3"
        _copy_database(set_aside, copy)
        conn = sqlite3.connect(database, timeout=busy_timeout_s, isolation_level=None)
        try:
            for pragma in ("foreign_keys=ON", "synchronous=FULL", "secure_delete=ON",
                           f"busy_timeout={int(busy_timeout_s * 1000)}"):
                conn.execute(f"PRAGMA {pragma}")
            conn.execute("ATTACH DATABASE ? AS aside", (str(copy),))
            columns = _recovery_columns(conn, set_aside)
            conn.execute("BEGIN IMMEDIATE")
            try:
                reports, feedback, already, delivered = _copy_missing(conn, columns)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back by itself (a full disk)
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise UpgradeError(f"cannot recover from {set_aside} ({type(exc).__name__}: {exc}): nothing was copied") \
                from None
        finally:
            conn.close()
    _own_like(database)
    renamed = _recovered_name(set_aside, existing=False)
    if renamed != set_aside:
        for suffix in ("-wal", ""):  # the log first, as restore_database does
            if Path(f"{set_aside}{suffix}").is_file():
                os.replace(f"{set_aside}{suffix}", f"{renamed}{suffix}")
    log.info("recovered %d reports and %d objections or ratings from a set-aside database", reports, feedback)
    return Recovery(reports=reports, feedback=feedback, already_here=already, delivered=delivered,
                    renamed_to=renamed)


def _recovery_columns(conn: sqlite3.Connection, set_aside: Path) -> dict[str, list[str] | None]:
    """Each recovery table's columns to copy (``_copyable``), from the database ``main`` and
    the file attached as ``aside``; an UpgradeError when the file is no kiosk database."""
    tables = _recovery_tables()
    try:
        # the outbox's own id is not copied: a recovered entry queues after those here
        columns = {table: _copyable(conn, table, skip=("id",) if table == tables[-1] else ()) for table in tables}
    except sqlite3.DatabaseError as exc:
        raise UpgradeError(f"{set_aside} is not a database SQLite can read ({exc})") from None
    if columns[tables[0]] is None or columns[tables[-1]] is None:
        raise UpgradeError(f"{set_aside} is not a kiosk database (no {tables[0]} or {tables[-1]} table)")
    return columns


def _copy_missing(conn: sqlite3.Connection, columns: dict[str, list[str] | None]) -> tuple[int, int, int, int]:
    """Inside the caller's transaction: what ``aside`` holds, ``main`` does not and is still
    waiting, copied table by table. (reports copied, objections and ratings copied, reports
    both hold, reports only ``aside`` holds that were delivered)."""
    from sync_queue.outbox import WAITING, OutboxState

    reports, voice_notes, remote_status, feedback, outbox = _recovery_tables()
    waiting = [state.value for state in WAITING]
    marks = ", ".join("?" * len(waiting))
    entry_columns = set(columns[outbox])
    conn.execute("CREATE TEMP TABLE recovering (key TEXT PRIMARY KEY, kind TEXT NOT NULL)")
    conn.execute(f"INSERT INTO temp.recovering SELECT r.tracking_id, 'reports' FROM aside.{reports} r "
                 f"WHERE r.tracking_id NOT IN (SELECT tracking_id FROM main.{reports}) AND EXISTS (SELECT 1 "
                 f"FROM aside.{outbox} o WHERE o.tracking_id = r.tracking_id AND o.state IN ({marks}))", waiting)
    if columns[feedback] is not None and "feedback_key" in entry_columns:
        conn.execute(f"INSERT INTO temp.recovering SELECT f.key, 'feedback' FROM aside.{feedback} f "
                     f"WHERE f.key NOT IN (SELECT key FROM main.{feedback}) AND EXISTS (SELECT 1 "
                     f"FROM aside.{outbox} o WHERE o.feedback_key = f.key AND o.state IN ({marks}))", waiting)
    counts = dict(conn.execute("SELECT kind, count(*) FROM temp.recovering GROUP BY kind").fetchall())
    both, only_aside = conn.execute(
        f"SELECT count(*) FILTER (WHERE tracking_id IN (SELECT tracking_id FROM main.{reports})), "
        f"count(*) FILTER (WHERE tracking_id NOT IN (SELECT tracking_id FROM main.{reports})) "
        f"FROM aside.{reports}").fetchone()

    picked = "(SELECT key FROM temp.recovering WHERE kind = '{}')".format
    owned_by = {reports: f"tracking_id IN {picked('reports')}", voice_notes: f"tracking_id IN {picked('reports')}",
                remote_status: f"tracking_id IN {picked('reports')}", feedback: f"key IN {picked('feedback')}"}
    for table, which in owned_by.items():  # in this order: each after what its foreign keys name
        if columns[table] is not None:
            names = ", ".join(columns[table])
            conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM aside.{table} WHERE {which}")
    whose = [f"{key} IN {picked(kind)}" for key, kind in (
        ("tracking_id", "reports"), ("voice_of", "reports"), ("feedback_key", "feedback")) if key in entry_columns]
    names = ", ".join(columns[outbox])
    values = ", ".join("CASE state WHEN ? THEN ? ELSE state END" if name == "state" else name
                       for name in columns[outbox])  # what the failed release was sending waits again
    conn.execute(f"INSERT INTO main.{outbox} ({names}) SELECT {values} FROM aside.{outbox} "
                 f"WHERE {' OR '.join(whose)} ORDER BY id", (OutboxState.SENDING.value, OutboxState.PENDING.value))
    conn.execute("DROP TABLE temp.recovering")
    copied = counts.get("reports", 0)
    return copied, counts.get("feedback", 0), both, only_aside - copied


def _recovered_name(set_aside: Path, *, existing: bool) -> Path | None:
    """With ``existing``: the name a recovered ``set_aside`` has now, or None. Without: the
    name to give it (itself when it is named so already; never one that is taken)."""
    if existing:
        found = sorted(set_aside.parent.glob(glob.escape(set_aside.name + RECOVERED_SUFFIX) + "*"))
        return next((p for p in found if not p.name.endswith(("-wal", "-shm"))), None)
    if set_aside.name.endswith(RECOVERED_SUFFIX):
        return set_aside
    target, n = set_aside.with_name(set_aside.name + RECOVERED_SUFFIX), 1
    while target.exists():
        n += 1
        target = set_aside.with_name(f"{set_aside.name}{RECOVERED_SUFFIX}-{n}")
    return target


def _own_like(db_file: Path) -> None:
    """A log or shared-memory file left beside the database by this (root) process goes to
    the database's owner: a root-owned one would lock the kiosk out."""
    if os.geteuid() != 0:
        return
    stat = db_file.stat()
    for suffix in ("-wal", "-shm"):
        path = Path(f"{db_file}{suffix}")
        if path.exists() and path.stat().st_uid != stat.st_uid:
            os.chown(path, stat.st_uid, stat.st_gid)


# --- the command --------------------------------------------------------------------------

def _say_not_healthy(outcome: Outcome, database: Path) -> None:
    """The lines for a release that did not become healthy (after an upgrade or a rollback)."""
    if not outcome.rolled_back_to:
        print(f"kiosk upgrade: release {outcome.version} did not become healthy, and there is no release "
              "to go back to (see journalctl -u lapor-kiosk)")
        return
    print(f"kiosk upgrade: release {outcome.version} did not become healthy; back on release "
          f"{outcome.rolled_back_to}" + (" with the database as it was before" if outcome.database_restored
                                         else "") + ("" if outcome.back_healthy else ", which is not healthy "
                                                     "either (see journalctl -u lapor-kiosk)"))
    if outcome.reports_set_aside:
        print(f"kiosk upgrade: {outcome.reports_set_aside} reports filed under release {outcome.version} are "
              f"not in the database put back, only in {database.name}.from-{outcome.version}: bring them back "
              f"with `kiosk upgrade --recover {database}.from-{outcome.version}`")


def _defaults(root: Path | None, unit: str | None, timeout_s: float | None) -> tuple[Path, str, float]:
    return root or DEFAULT_ROOT, unit or DEFAULT_UNIT, timeout_s or HEALTH_TIMEOUT_S


def run(source: str, *, database: Path, root: Path | None = None, public_key_file: Path | None = None,
        unit: str | None = None, timeout_s: float | None = None) -> int:
    """``kiosk upgrade``: one line for the technician, exit code 0 (healthy), 1 (rolled back
    or failed), 2 (refused: nothing was replaced)."""
    root, unit, timeout_s = _defaults(root, unit, timeout_s)
    try:
        outcome = upgrade(source, root=root, public_key=load_public_key(public_key_file or DEFAULT_PUBLIC_KEY),
                          service=SystemdService(unit), database=database, health_timeout_s=timeout_s)
    except UpgradeError as exc:
        print(f"kiosk upgrade: {exc}")
        return 2
    if outcome.healthy:
        print(f"kiosk upgrade: release {outcome.version} is running and healthy")
    else:
        _say_not_healthy(outcome, database)
    return outcome.exit_code


def run_rollback(*, database: Path, root: Path | None = None, unit: str | None = None,
                 timeout_s: float | None = None, service: Service | None = None) -> int:
    """``kiosk upgrade --rollback``: one line, exit code 0 (back and healthy), 1 (the release
    gone back to was not healthy: on the release before again), 2 (refused: nothing changed).
    ``service`` stands in for systemd in tests."""
    root, unit, timeout_s = _defaults(root, unit, timeout_s)
    try:
        outcome = rollback(root=root, service=service or SystemdService(unit), database=database,
                           health_timeout_s=timeout_s)
    except UpgradeError as exc:
        print(f"kiosk upgrade: {exc}: nothing was changed")
        return 2
    if outcome.healthy:
        waiting = "" if outcome.waiting is None else f"; {outcome.waiting} waiting to be sent, as before"
        print(f"kiosk upgrade: back on release {outcome.version} from {outcome.switched_from}, running and "
              f"healthy{waiting}; `kiosk upgrade --rollback` again returns to {outcome.switched_from}")
    else:
        _say_not_healthy(outcome, database)
    return outcome.exit_code


def run_recover(set_aside: Path, *, database: Path) -> int:
    """``kiosk upgrade --recover PATH``: one line, exit code 0 (done, maybe nothing to copy)
    or 2 (refused: nothing was copied, the file kept its name)."""
    try:
        done = recover_reports(set_aside, database=database)
    except UpgradeError as exc:
        print(f"kiosk upgrade: {exc}")
        return 2
    feedback = f" and {done.feedback} objections or ratings" if done.feedback else ""
    delivered = f", {done.delivered} delivered before and not copied" if done.delivered else ""
    print(f"kiosk upgrade: recovered {done.reports} reports{feedback} from {Path(set_aside).name} into "
          f"{database.name}, waiting to be sent; {done.already_here} were already there{delivered}; "
          f"the file is now {done.renamed_to.name}")
    return 0
