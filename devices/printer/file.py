"""The offline default printer: each receipt becomes ``<id>-<time>.bin`` + a ``.png`` preview."""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from devices.printer.base import ReceiptPrinter
from devices.printer.errors import PrinterUnavailable

log = logging.getLogger(__name__)


class FilePrinter(ReceiptPrinter):
    """Writes the ESC/POS bytes atomically, then renders what the paper would show."""

    def __init__(self, directory: Path, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(directory)

    def _send(self, data: bytes, *, name: str) -> Path:
        from devices.escpos_sim import parse_escpos, render_png  # Pillow: only when printing

        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        target = self.directory / f"{name}-{stamp}.bin"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            render_png(parse_escpos(data, encoding=self.encoding), target.with_suffix(".png"),
                       paper_width_mm=self.paper_width_mm)
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write receipts to {self.directory}: {exc.strerror}") from None
        return target
