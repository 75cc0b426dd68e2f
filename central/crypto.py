"""Secrets the central keeps at rest (the officers' TOTP secrets), sealed with a key it
reads from a file: ``--secret-key-file PATH`` (or ``CENTRAL_SECRET_KEY_FILE``), or
systemd's credential ``central-secret-key`` (``LoadCredential=``).

The file holds Fernet keys (AES-128-CBC with HMAC-SHA256, the ``cryptography`` package),
one a line: the first seals, every one opens, so a key can be rotated by putting a new one
first. ``python -m central secret-key new PATH`` writes one (mode 0600). The database then
holds ``fernet:<token>``; a copy of the database alone gives no one's second factor.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

SEALED = "fernet:"
ENV_VAR = "CENTRAL_SECRET_KEY_FILE"
CREDENTIAL = "central-secret-key"
#: What an operator is told when a secret must be sealed and no key is configured.
HOW_TO_CONFIGURE = (f"the central has no secret key: start it with --secret-key-file PATH (or {ENV_VAR}=PATH, "
                    f"or systemd's credential {CREDENTIAL}); make one with: python -m central secret-key new PATH")


class SecretKeyError(RuntimeError):
    """No usable key: missing where one is needed, unreadable, or not a Fernet key."""


class SecretBox:
    """Seals and opens short secrets with the configured keys."""

    def __init__(self, keys: list[bytes]):
        from cryptography.fernet import Fernet, MultiFernet

        if not keys:
            raise SecretKeyError("the secret key file holds no key")
        self._keys = list(keys)
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise SecretKeyError("the secret key file holds a line that is no Fernet key "
                                 "(make one with: python -m central secret-key new PATH)") from None

    def derived(self, purpose: str) -> list[bytes]:
        """32-byte keys for ``purpose`` (a keyed hash of a value that must be found again but
        never read back, e.g. an SMS number), one per key of the file, in its order: the
        first makes new hashes, every one finds old ones, so a rotation (a new key put
        first) loses nothing while the old key stays in the file."""
        import hashlib
        import hmac

        label = f"lapor-central:{purpose}".encode("utf-8")
        return [hmac.new(key, label, hashlib.sha256).digest() for key in self._keys]

    def seal(self, secret: str) -> str:
        return SEALED + self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        """The secret of a stored value; a plain value (stored before a key was configured)
        is returned as it is."""
        if not is_sealed(stored):
            return stored
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(stored[len(SEALED):].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError("a stored secret was sealed with a key the key file no longer holds") from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def open_secret(box: SecretBox | None, stored: str) -> str:
    """A stored secret in clear; SecretKeyError when it is sealed and there is no key."""
    if box is None:
        if is_sealed(stored):
            raise SecretKeyError(HOW_TO_CONFIGURE)
        return stored
    return box.open(stored)


def key_file(explicit: str | None) -> Path | None:
    """The key file to read: the one given (option or environment), else systemd's
    credential when the service has one, else None."""
    if explicit:
        return Path(explicit)
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL).is_file():
        return Path(credentials) / CREDENTIAL
    return None


def load(explicit: str | None) -> SecretBox | None:
    """The box of the configured key file; None when none is configured. A file that is
    given but cannot be read or holds no key raises SecretKeyError (the central stops)."""
    path = key_file(explicit)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="ascii")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {type(exc).__name__}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the secret key file %s can be read by others than its owner: chmod 600 it", path)
    return SecretBox([line.strip().encode("ascii") for line in text.splitlines() if line.strip()])


def new_key_file(path: str) -> None:
    """Write a new key file (mode 0600); never over an existing file."""
    from cryptography.fernet import Fernet

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(Fernet.generate_key().decode("ascii") + "\n")
