"""Free text and personal data encrypted at rest (Fernet from ``cryptography``).

The key lives in its own file (mode 0600): by default beside the database, better apart
from it (``key_file``, or systemd's credential ``kiosk-key``: docs/DEPLOY.md), so a copied
data directory alone reveals no complaint text, name or phone number. The report service
seals values before they are written and opens them when read.

Two different troubles, two different words: a key file that does not belong to the
database is caught once, when the store opens (``db._check_key``: no value opens); one
value that does not open with the right key is damaged, and only its report is affected.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

#: Permission bits a key file must not have: readable or writable by anyone but its owner.
_SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


class SealError(Exception):
    """A key file that is unreadable, damaged or too open; or one stored value that does
    not open with the key (the message says which)."""


class Sealer:
    """Encrypts and decrypts text with the kiosk's key."""

    def __init__(self, fernet: Fernet):
        self._fernet = fernet

    def seal(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def seal_bytes(self, data: bytes) -> bytes:
        """Encrypt bytes (a recorded complaint) as :meth:`seal` does text."""
        return self._fernet.encrypt(bytes(data))

    def open_bytes(self, token: bytes) -> bytes:
        """The bytes sealed in ``token``; :class:`SealError` when they do not open."""
        try:
            return self._fernet.decrypt(bytes(token))
        except (InvalidToken, TypeError, ValueError):
            raise SealError("stored recording cannot be decrypted: it is damaged, "
                            "or the key file does not belong to it") from None

    def open(self, token: bytes | str) -> str:
        """The text sealed in ``token``; :class:`SealError` when it does not open. This one
        value alone cannot tell a damaged token from another key: the store's key check can."""
        try:
            raw = token.encode("ascii") if isinstance(token, str) else bytes(token)
            return self._fernet.decrypt(raw).decode("utf-8")
        except (InvalidToken, TypeError, ValueError):
            raise SealError("stored text cannot be decrypted: it is damaged, "
                            "or the key file does not belong to it") from None


def _key_mode_checked(path: Path) -> None:
    """Make a key file readable by its owner only: fix a wider mode (with a warning), or
    refuse it when the mode cannot be fixed (the file is another user's)."""
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if not mode & _SHARED_BITS:
        return
    if info.st_uid != os.geteuid():
        raise SealError(f"key file {path} may be read by other users (mode {mode:04o}) and belongs to another "
                        "user, so its mode cannot be fixed: make it the kiosk user's with mode 0600")
    try:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    except OSError as exc:
        raise SealError(f"key file {path} may be read by other users (mode {mode:04o}) and its mode cannot be "
                        f"fixed ({type(exc).__name__}): chmod 600 it") from None
    log.warning("key file %s could be read by other users (mode %04o): its mode is now 0600", path, mode)


def load_or_create_key(path: Path) -> Sealer:
    """Read the key, creating it atomically with mode 0600 on first use. A key file other
    users may read is made 0600 (or refused when that is impossible); an existing key file
    is only read, never written (systemd's read-only credential works)."""
    try:
        _key_mode_checked(path)
        return Sealer(Fernet(path.read_bytes().strip()))
    except FileNotFoundError:
        pass
    except (ValueError, OSError) as exc:
        raise SealError(f"key file {path} is unreadable or damaged ({type(exc).__name__})") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and fails if another process made the key meanwhile
    except FileExistsError:
        return Sealer(Fernet(path.read_bytes().strip()))
    finally:
        os.unlink(tmp)
    log.info("created a new encryption key for the kiosk store")
    return Sealer(Fernet(key))
