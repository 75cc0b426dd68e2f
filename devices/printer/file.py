"""The offline default printer: each receipt becomes ``<ID>-<time>[-copy].bin`` + a ``.png`` preview.

The ``.bin`` holds exactly the ESC/POS bytes a real printer would get (``cat x.bin >
/dev/usb/lp0`` prints it); the ``.png`` is what the paper would show, drawn by
:mod:`devices.escpos_sim` in a child process. Both appear atomically (temporary file, fsync,
rename).

A receipt carries the report's title, in plain: the folder is a technician's preview, not
an archive. With a retention (``receipt_retention_days``), receipts older than that are
deleted at each print and when the kiosk builds its printer (start, technician commands);
0 keeps only the newest one.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

from devices.paper import check_paper_width
from devices.printer.base import PrinterStatus, ReceiptPrinter
from devices.printer.errors import PrinterUnavailable
from kiosk.kernel import children
from kiosk.kernel.clock import utc_now

log = logging.getLogger(__name__)

WRITABLE_HINT = "make the data directory writable by the kiosk's user"
#: ``devices.escpos_sim.CHILD_WORD`` (not imported here: it would load the renderer).
PREVIEW_CHILD_WORD = "receipt-preview"
#: A preview takes about 0.1 s; a child that hangs is ended, and the receipt stands.
PREVIEW_TIMEOUT_S = 30
_STAMP_FORMAT = "%Y%m%dT%H%M%S"
#: A receipt this printer wrote (or the temporary file of one a crash left): the job's
#: name, then the time it was printed. Nothing else in the folder is ever deleted.
_RECEIPT_NAME = re.compile(r"^\.?[^-/]+-(\d{8}T\d{6})(?:[-.][^/]*)?\.(?:bin|png)(?:\.tmp)?$")


class PreviewNotDrawn(Exception):
    """The preview's child ended without a picture; ``strerror``: why, as the child said it
    (the reason's name, never the receipt's text), as an OSError's would be logged."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.strerror = reason


class FilePrinter(ReceiptPrinter):
    """Writes each receipt's bytes, then renders what the paper would show next to them.

    The directory is created on the first print, not before. ``paper_width_mm`` and
    ``encoding`` are the paper and code page the preview is drawn with (the layout's).
    A job ``<name>[-<tag>...]`` is written as ``<name>-<time>[-<tag>...].bin``.
    """

    reads_status = False

    def __init__(
        self,
        directory: Path,
        *,
        paper_width_mm: int = 80,
        encoding: str = "cp437",
        now: Callable[[], dt.datetime] = utc_now,
        retention_days: int | None = None,
    ):
        check_paper_width(paper_width_mm)
        if retention_days is not None and retention_days < 0:
            raise ValueError("retention_days must be 0 or more")
        self.directory = Path(directory)
        self.paper_width_mm, self.encoding = paper_width_mm, encoding
        self._now = now
        #: Days a receipt is kept; 0: only the newest; None: every receipt is kept.
        self.retention_days = retention_days
        self.name = f"file printer {self.directory}"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "FilePrinter":
        """The kiosk's file printer; receipts past ``receipt_retention_days`` go at once."""
        printer = cls(receipts_dir, paper_width_mm=values["paper_width_mm"], encoding=values["printer_code_page"],
                      retention_days=values["receipt_retention_days"])
        printer.delete_expired()
        return printer

    @property
    def target(self) -> str:
        return str(self.directory)

    def status(self) -> PrinterStatus:
        """Ready while the folder (or, before the first receipt, its nearest existing
        parent) is writable. A folder has no roll to run out: the paper is ``ok``."""
        target = self.directory
        while not target.exists() and target != target.parent:  # created at the first receipt
            target = target.parent
        if not (target.is_dir() and os.access(target, os.W_OK)):  # e.g. a file where the folder should be
            error = PrinterUnavailable(f"cannot write receipts to {self.directory}", hint=WRITABLE_HINT)
            return PrinterStatus("unavailable", "ok", can_read_status=False, error=error)
        return PrinterStatus("ok", "ok", can_read_status=False)

    def tidy(self) -> int:
        """Receipts past the retention go, also on a kiosk that prints nothing for days."""
        return self.delete_expired()

    def delete_expired(self) -> int:
        """Delete the receipts (``.bin``, ``.png``, a crash's temporary files) printed more
        than ``retention_days`` ago by this printer's clock (its file names say when);
        with 0, every receipt. Returns how many files went; never raises."""
        if self.retention_days is None:
            return 0
        cutoff = self._now().astimezone(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=self.retention_days)
        deleted = 0
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("expired receipts not deleted: %s", type(exc).__name__)
            return 0
        for entry in entries:
            match = _RECEIPT_NAME.match(entry.name)
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            try:
                printed = dt.datetime.strptime(match.group(1), _STAMP_FORMAT)
            except ValueError:
                continue
            if self.retention_days and printed > cutoff:
                continue
            try:
                os.unlink(entry.path)
                deleted += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("expired receipt not deleted: %s", type(exc).__name__)
        if deleted:
            log.info("deleted %d expired receipt files", deleted)
        return deleted

    def _send(self, data: bytes, *, job: str) -> Path:
        stamp = self._now().astimezone(dt.timezone.utc).strftime(_STAMP_FORMAT)
        name, _, tags = job.partition("-")
        stem = f"{name}-{stamp}" + (f"-{tags}" if tags else "")
        self.delete_expired()  # with 0: the receipts before this one
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = _publish(self.directory, stem, ".bin", data)
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write receipts to {self.directory}: {exc.strerror or exc}",
                                     hint=WRITABLE_HINT) from None
        try:
            self._write_preview(target, target.with_suffix(".png"))
        except Exception as exc:  # the receipt itself is written; a missing preview is not a failed print
            log.warning("receipt preview not written: %s: %s", type(exc).__name__, getattr(exc, "strerror", ""))
        return target

    def _write_preview(self, receipt: Path, png: Path) -> None:
        """Draw ``receipt`` as ``png`` in a child process (``devices.escpos_sim``): the
        renderer, its fonts and the pictures it draws are 2-3 MiB that a kiosk's UI process
        would otherwise carry for good after its first receipt, for a picture only a
        technician looks at. About 0.1 s a receipt, on the printer's thread."""
        fd, tmp = tempfile.mkstemp(dir=png.parent, prefix=f".{png.stem}-", suffix=".png.tmp")
        os.close(fd)
        try:
            done = subprocess.run(
                [*children.command("devices.escpos_sim", PREVIEW_CHILD_WORD), str(receipt), tmp, self.encoding,
                 str(self.paper_width_mm)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                env=children.environ(), timeout=PREVIEW_TIMEOUT_S, check=False)
            if done.returncode != 0:
                raise PreviewNotDrawn(done.stderr.strip().splitlines()[-1] if done.stderr.strip()
                                      else f"exit {done.returncode}")
            os.replace(tmp, png)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        _fsync_dir(png.parent)


def _publish(directory: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write ``data`` durably under a new name; never replaces an existing receipt."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{stem}-", suffix=suffix + ".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for n in range(1, 1000):
            target = directory / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            try:
                os.link(tmp, target)  # atomic, and fails instead of overwriting
                break
            except FileExistsError:
                continue
            except OSError:  # no hard links here (e.g. FAT): rename onto a name that is free
                if target.exists():
                    continue
                os.replace(tmp, target)
                break
        else:
            raise FileExistsError(f"too many receipts named {stem}")
    finally:
        _unlink_quietly(tmp)
    _fsync_dir(directory)
    return target


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable across a power cut (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
