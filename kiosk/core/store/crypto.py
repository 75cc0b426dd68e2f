"""Free text and personal data encrypted at rest (Fernet from ``cryptography``).

The key lives in its own file (mode 0600) beside the database, so a copied database file
alone reveals no complaint text, name or phone number. The report service seals values
before they are written and opens them when read.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class SealError(Exception):
    """The key file is unreadable, or does not belong to this database."""


class Sealer:
    """Encrypts and decrypts text with the kiosk's key."""

    def __init__(self, fernet: Fernet):
        self._fernet = fernet

    def seal(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def open(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise SealError("stored text cannot be decrypted: the key file does not belong to this database") from None


def load_or_create_key(path: Path) -> Sealer:
    """Read the key, creating it atomically with mode 0600 on first use."""
    try:
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
