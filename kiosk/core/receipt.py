"""The receipt layout: a receipt's content laid out into ESC/POS bytes, which a printer
transport (:mod:`devices.printer`) then only moves.

Every string is cleaned by :func:`kiosk.kernel.textclean.clean_for_printer`, wrapped to the
paper, encoded here and sent with ``_raw`` under ONE code page selected explicitly
(ESC t). We never call ``Escpos.text()``: its magic encoder picks and switches code pages
itself (its first write emits ``ESC t 0``) and passes control bytes found in text straight
to the printer. For the same reason the image QR code is rasterised here rather than
with ``qr(native=False)``, which writes its newlines through that encoder (a hidden
``ESC t 0``) and prints a warning on stdout.

python-escpos is imported only when a receipt is laid out, on the printer thread (it
costs ~150 ms at start-up).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import textwrap
from typing import TYPE_CHECKING, Callable

from devices.paper import CHARS_PER_LINE, DOTS_PER_LINE, check_paper_width
from devices.printer.base import PrintOutcome, ReceiptPrinter
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import N_
from kiosk.kernel.textclean import clean_for_printer
from kiosk.kernel.tracking_id import format_tracking_id

if TYPE_CHECKING:
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)

#: ESC t n for the code pages we use, keyed by the Python codec that matches.
CODE_PAGES = {"cp437": 0, "cp858": 19}
#: QR module size in dots: a version-1 code is about 21 mm wide on 80 mm paper, 16 mm on 58 mm.
QR_SIZE = {80: 8, 58: 6}
QR_MODES = ("native", "image")
_QR_EC_M = 1  # python-escpos QR_ECLEVEL_M: survives a crease or a smudge
_QUIET_ZONE = 4  # modules of white around the image QR code


@dataclasses.dataclass(frozen=True)
class ReceiptContent:
    """Everything a receipt says; built from a saved report in the citizen's language."""

    tracking_id: str  # canonical, 14 symbols
    created_at: dt.datetime  # aware
    institution: str
    kiosk_location: str
    kind_label: str
    category_label: str
    title: str
    confidential: bool
    language: str  # "id" or "en"
    copy: bool = False  # a reprint, marked "SALINAN" / "COPY"
    qr_payload: str = ""  # what the QR code holds: the status URL when one is configured
    status_lines: tuple[str, ...] = ()  # set: a "print this status" slip instead of a receipt
    status_address: str = ""  # this kiosk's public status page for the report, when one is configured
    printer_test: bool = False  # `kiosk print-test`: marked as a test at top and bottom, never "keep this"
    sms_when_answered: bool = False  # the citizen agreed to one SMS when the report is answered (issue 16)
    sms_number: str = ""  # the kabupaten's SMS number for "CEK <Tracking ID>", when one is configured

    @property
    def qr_text(self) -> str:
        return self.qr_payload or self.tracking_id

    @property
    def job_name(self) -> str:
        """What the printer calls this receipt: ``<ID>[-copy][-status]`` (the file
        printer's file names)."""
        return self.tracking_id + ("-copy" if self.copy else "") + ("-status" if self.status_lines else "")

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware (a naive time would print in the PC's zone)")


class _Writer:
    """Cleans, wraps and encodes every line for one printer, paper width and code page."""

    def __init__(self, printer: "Escpos", width: int, encoding: str):
        self.p, self.width, self.encoding = printer, width, encoding

    def line(self, text: str, *, width: int | None = None) -> None:
        """Print ``text`` wrapped to ``width`` characters (default: the paper's)."""
        clean = clean_for_printer(text, encoding=self.encoding)
        parts = textwrap.wrap(clean, width or self.width, break_long_words=True, break_on_hyphens=False)
        for part in parts or [""]:
            self.p._raw(part.encode(self.encoding) + b"\n")

    def rule(self) -> None:
        self.p._raw(b"-" * self.width + b"\n")

    def style(self, *, align: str, bold: bool, double: bool = False) -> None:
        """Set every style we use at once: ESC ! (size, and bold off) comes before ESC E."""
        if double:
            self.p.set(align=align, bold=bold, double_width=True, double_height=True)
        else:
            self.p.set(align=align, bold=bold, normal_textsize=True)


def check_print_settings(qr_mode: str, paper_width_mm: int, encoding: str) -> None:
    """Raise ``ValueError`` for a QR mode, paper width or code page the layout cannot do."""
    if qr_mode not in QR_MODES:
        raise ValueError(f"qr_mode must be one of {QR_MODES}, not {qr_mode!r}")
    check_paper_width(paper_width_mm)
    if encoding not in CODE_PAGES:
        raise ValueError(f"encoding must be one of {sorted(CODE_PAGES)}, not {encoding!r}")


@dataclasses.dataclass(frozen=True)
class ReceiptLayout:
    """How this kiosk's receipts are laid out: QR mode, paper width, code page and
    python-escpos printer profile (capabilities.json). Checked at construction."""

    qr_mode: str = "native"
    paper_width_mm: int = 80
    encoding: str = "cp437"
    profile: str = "default"

    def __post_init__(self) -> None:
        check_print_settings(self.qr_mode, self.paper_width_mm, self.encoding)

    def render(self, content: ReceiptContent, *, gettext: Callable[[str], str]) -> bytes:
        """The ESC/POS bytes of one receipt, recorded by python-escpos's ``Dummy`` printer."""
        from escpos.printer import Dummy  # imported on the printer thread: it costs ~150 ms

        dummy = Dummy(profile=self.profile)
        write_receipt(dummy, content, gettext=gettext, qr_mode=self.qr_mode,
                      paper_width_mm=self.paper_width_mm, encoding=self.encoding)
        return dummy.output


def print_receipt(printer: ReceiptPrinter, content: ReceiptContent, *, gettext: Callable[[str], str],
                  layout: ReceiptLayout = ReceiptLayout()) -> PrintOutcome:
    """Lay out one receipt and send it to ``printer``; every failure, of the layout or of
    the printer, comes back in the outcome. Run it on the printer's thread."""
    return printer.print_job(lambda: layout.render(content, gettext=gettext), job=content.job_name)


def write_receipt(
    printer: "Escpos",
    content: ReceiptContent,
    *,
    gettext: Callable[[str], str],
    qr_mode: str = "native",
    paper_width_mm: int = 80,
    encoding: str = "cp437",
) -> None:
    """Lay out one receipt on ``printer``. Only the layout's own commands reach it.

    Raises ``ValueError`` for an unsupported ``qr_mode``, paper width or encoding.
    """
    check_print_settings(qr_mode, paper_width_mm, encoding)
    _ = gettext
    width = CHARS_PER_LINE[paper_width_mm]
    w = _Writer(printer, width, encoding)

    printer._raw(b"\x1b@")  # ESC @: initialise (this also resets the printer's code page)
    printer._raw(b"\x1bt" + bytes([CODE_PAGES[encoding]]))  # ESC t n: our one code page

    if content.printer_test:
        _test_banner(w)
    w.style(align="center", bold=True)
    w.line(content.institution)
    w.style(align="center", bold=False)
    w.line("SP4N LAPOR!")
    w.line(_("Report status") if content.status_lines else _("Report receipt"))
    if content.copy:
        w.style(align="center", bold=True)
        w.line(_("COPY"))
        w.style(align="center", bold=False)
    w.rule()
    w.line(_("Report number (Tracking ID)"))
    w.style(align="center", bold=True, double=True)
    w.line(format_tracking_id(content.tracking_id), width=width // 2)  # each character is two columns
    w.style(align="center", bold=False)
    printer._raw(b"\n")
    if qr_mode == "native":
        # GS ( k; ESC a 1 centres it on the printer.
        printer.qr(content.qr_text, native=True, size=QR_SIZE[paper_width_mm], ec=_QR_EC_M)
        printer._raw(b"\n")
    else:
        # GS v 0 ignores ESC a on some printers, so the image carries its own left margin.
        w.style(align="left", bold=False)
        printer._raw(qr_raster(content.qr_text, module=QR_SIZE[paper_width_mm],
                               paper_dots=DOTS_PER_LINE[paper_width_mm]))
    w.style(align="left", bold=False)
    local = content.created_at.astimezone(LOCAL_TZ)
    if content.status_lines:
        for text in content.status_lines:
            w.line(text)
        w.rule()
        w.line(f"{_('Date')}: {local:%d-%m-%Y %H:%M} WIB")
        printer.cut()
        return
    w.line(f"{_('Date')}: {local:%d-%m-%Y %H:%M} WIB")
    w.line(f"{_('Place')}: {content.kiosk_location}")
    w.line(f"{_('Kind of report')}: {content.kind_label}")
    w.line(f"{_('Category')}: {content.category_label}")
    if content.confidential:
        w.line(_("Confidential report: the content is not printed."))
    else:
        w.line(f"{_('Title')}: {content.title}")
    if content.sms_when_answered:
        w.line(_(SMS_WHEN_ANSWERED))
    w.rule()
    w.line(_("Check the status at any LAPOR! kiosk: scan this QR code or type the report number."))
    if content.sms_number:  # from any phone, a basic one too
        where, what = sms_check_lines(content.tracking_id, content.sms_number, _)
        w.line(where)
        w.line(what)
    if content.status_address:
        # lapor.go.id cannot look up a kiosk's Tracking ID: point at the page that can.
        w.line(_("Or online, on a phone or computer:"))
        w.line(content.status_address)
    else:
        w.line(_("SP4N LAPOR!: lapor.go.id, SMS 1708"))
    if content.printer_test:
        _test_banner(w)
    else:
        w.style(align="center", bold=True)
        w.line(_("Keep this receipt"))
    w.style(align="left", bold=False)
    printer.cut()  # ESC d 6 (feed past the cutter), GS V 0


def sms_check_lines(tracking_id: str, sms_number: str, _: Callable[[str], str]) -> tuple[str, str]:
    """How to check the report by SMS from any phone, in two lines: where to ("Cek lewat SMS
    ke 0812 3456 7890, ketik:") and exactly what to type ("CEK MT01-ABCDE-FGHJK"), which
    then never breaks, even on 58 mm paper (the receipt and the receipt screen)."""
    from kiosk.kernel.tracking_id import format_tracking_id

    return (_("Check by SMS to {phone}, type:").format(phone=" ".join(sms_number.split())),
            f"CEK {format_tracking_id(tracking_id)}")


#: The receipt's line when the citizen agreed to one SMS when the report is answered (the
#: receipt screen says it too): one line of 80 mm paper in both languages.
SMS_WHEN_ANSWERED = N_("You will get an SMS when the report is answered.")

#: What a printer test says at its top and bottom, so nobody takes it for a receipt.
#: Plain text for the technician, not translated (the test is always the same).
PRINTER_TEST_BANNER = "TES PRINTER - BUKAN TANDA TERIMA"


def _test_banner(w: _Writer) -> None:
    w.style(align="center", bold=True)
    w.line(PRINTER_TEST_BANNER)
    w.style(align="left", bold=False)


def qr_raster(payload: str, *, module: int, paper_dots: int) -> bytes:
    """A QR code of ``payload`` as one ``GS v 0`` raster image, centred by a white left margin."""
    import qrcode

    code = qrcode.QRCode(box_size=1, border=_QUIET_ZONE, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()  # rows of booleans, quiet zone included
    side = len(matrix) * module
    left = max(0, (paper_dots - side) // 2)
    width_bytes = (left + side + 7) // 8
    rows = []
    for modules in matrix:
        bits = 0
        for dark in modules:
            bits = (bits << module) | (((1 << module) - 1) if dark else 0)
        bits <<= width_bytes * 8 - left - side  # pad the row to whole bytes
        rows.append(bits.to_bytes(width_bytes, "big") * module)
    header = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + side.to_bytes(2, "little")
    return header + b"".join(rows)
