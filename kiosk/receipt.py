"""The receipt layout, written through python-escpos onto any ``Escpos`` object.

Text is encoded here, after :func:`kiosk.textclean.clean_for_printer`, and sent with
``_raw`` under one code page selected explicitly (ESC t): python-escpos's magic encoder
would otherwise pick code pages itself, and it passes control bytes found in text
straight to the printer.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import textwrap
from typing import TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from kiosk.textclean import clean_for_printer
from kiosk.tracking_id import format_tracking_id

if TYPE_CHECKING:
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)

WIB = ZoneInfo("Asia/Jakarta")
#: Characters per line in font A.
LINE_WIDTH = {80: 48, 58: 32}
#: ESC t n for the code pages we use, and the Python codec that matches.
CODE_PAGES = {"cp437": 0, "cp858": 19}
#: QR module size in dots: about 25 mm wide on 80 mm paper, 20 mm on 58 mm.
QR_SIZE = {80: 8, 58: 6}


@dataclasses.dataclass(frozen=True)
class ReceiptContent:
    """Everything a receipt says; built from a saved report in the citizen's language."""

    tracking_id: str
    created_at: dt.datetime
    institution: str
    kiosk_location: str
    kind_label: str
    category_label: str
    title: str
    confidential: bool
    language: str
    copy: bool = False


class _Writer:
    """Cleans, wraps and encodes every line for one printer, paper width and code page."""

    def __init__(self, printer: "Escpos", width: int, encoding: str):
        self.p, self.width, self.encoding = printer, width, encoding

    def line(self, text: str, *, width: int | None = None) -> None:
        limit = width or self.width
        clean = clean_for_printer(text, encoding=self.encoding)
        for part in textwrap.wrap(clean, limit, break_long_words=True, break_on_hyphens=False) or [""]:
            self.p._raw(part.encode(self.encoding) + b"\n")

    def style(self, **kwargs) -> None:
        self.p.set(**kwargs)


def write_receipt(
    printer: "Escpos",
    content: ReceiptContent,
    *,
    gettext: Callable[[str], str],
    qr_mode: str = "native",
    paper_width_mm: int = 80,
    encoding: str = "cp437",
) -> None:
    """Lay out one receipt. Only the layout's own commands reach the printer."""
    _ = gettext
    width = LINE_WIDTH[paper_width_mm]
    w = _Writer(printer, width, encoding)
    printer._raw(b"\x1b@")  # ESC @: initialise (the printer also resets its code page here)
    printer._raw(b"\x1bt" + bytes([CODE_PAGES[encoding]]))  # ESC t n: our one code page

    w.style(align="center", bold=True, normal_textsize=True)
    w.line(content.institution)
    w.style(bold=False)
    w.line("SP4N LAPOR!")
    w.line(_("Report receipt"))
    if content.copy:
        w.style(bold=True)
        w.line(_("COPY"))
        w.style(bold=False)
    w.line("-" * width)
    w.line(_("Report number (Tracking ID)"))
    w.style(bold=True, double_width=True, double_height=True)
    w.line(format_tracking_id(content.tracking_id), width=width // 2)
    w.style(bold=False, normal_textsize=True)
    printer._raw(b"\n")
    if qr_mode == "native":
        printer.qr(content.tracking_id, native=True, size=QR_SIZE[paper_width_mm], ec=1)  # ec M
        printer._raw(b"\n")
    else:
        printer.qr(content.tracking_id, native=False, size=QR_SIZE[paper_width_mm], ec=1)
    w.style(align="left")
    local = content.created_at.astimezone(WIB)
    w.line(f"{_('Date')}: {local:%d-%m-%Y %H:%M} WIB")
    w.line(f"{_('Place')}: {content.kiosk_location}")
    w.line(f"{_('Kind of report')}: {content.kind_label}")
    w.line(f"{_('Category')}: {content.category_label}")
    if content.confidential:
        w.line(_("Confidential report: the content is not printed."))
    else:
        w.line(f"{_('Title')}: {content.title}")
    w.line("-" * width)
    w.line(_("Check the status at any LAPOR! kiosk: scan this QR code or type the report number."))
    w.line(_("SP4N LAPOR!: lapor.go.id, SMS 1708"))
    w.style(align="center", bold=True)
    w.line(_("Keep this receipt"))
    w.style(align="left", bold=False)
    printer.cut()
