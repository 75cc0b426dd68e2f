"""One delivery pass per data directory: an advisory lock on a file beside the database.

The app's sync worker holds it for its whole life, ``kiosk sync --once`` for its one pass;
whoever does not hold it neither sends nor puts ``sending`` entries back to ``pending``
(:meth:`sync_queue.outbox.Outbox.recover`), so a technician's pass can never reset the
batch the app is sending. ``fcntl.flock`` belongs to the open file: the kernel releases
it when the holder dies, SIGKILL included, so a crash never leaves the kiosk locked out.
The file also says who holds it (process ID and role), for the refusal's sentence.

This layer knows no data directory: the caller passes the lock file's path in.
"""
from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: The lock file's name in the data directory.
LOCK_FILE = "delivery.lock"
#: Who holds it, as the lock file and the refusal say.
APP_ROLE = "kiosk app"
TECHNICIAN_ROLE = "kiosk sync --once"


class LockNotHeld(RuntimeError):
    """Work that needs the delivery lock was asked for without holding it."""


class DeliveryLock:
    """The delivery lock of one data directory. ``try_acquire`` never waits; ``release``
    (or closing the process, however it ends) lets the next holder in. Two objects on the
    same path exclude each other, in one process too."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, role: str = APP_ROLE) -> bool:
        """Take the lock if nobody holds it, as ``role`` (who is delivering, for the refusal
        another process prints); whether this object holds it now."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {role}\n".encode("ascii"))
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the next pass in (nothing when not held)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor drops the flock

    def holder(self) -> tuple[int, str] | None:
        """(process ID, role) of whoever took the lock last; None when unknown. Only
        meaningful while :meth:`try_acquire` fails (the file outlives its holder)."""
        try:
            pid, role = self.path.read_text(encoding="ascii").split(maxsplit=1)
            return int(pid), role.strip()
        except (OSError, ValueError):
            return None

