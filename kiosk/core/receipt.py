"""The receipt layout: a receipt's content laid out into ESC/POS bytes, which a printer
transport (:mod:`devices.printer`) then only moves.

Every string is cleaned by :func:`kiosk.kernel.textclean.clean_for_printer`, wrapped to the
paper, encoded here and sent with ``_raw`` under ONE code page selected explicitly
(ESC t). We never call ``Escpos.text()``: its magic encoder picks and switches code pages
itself (its first write emits ``ESC t 0``) and passes control bytes found in text straight
to the printer. For the same reason the image QR code is rasterised here rather than
with ``qr(native=False)``, which writes its newlines through that encoder (a hidden
``ESC t 0``) and prints a warning on stdout.

A kiosk lays every receipt out in a child process of its own (``receipt-layout``,
:func:`main`, :class:`LayoutChild`): python-escpos and what it imports (Pillow,
python-barcode, PyYAML, its 2.4 MiB printer database) are about 9 MiB that the kiosk's UI
process would otherwise carry for weeks after its first receipt, for a few milliseconds of
work a citizen. The review screen starts the child while the citizen reads (it needs about
0.25 s to import), so "Kirim" to the printer stays a matter of milliseconds; a reprint or a
status slip starts its own. The child writes the bytes; the printer's transport, in the
kiosk's process, sends them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import select
import subprocess
import sys
import textwrap
import traceback
from typing import TYPE_CHECKING, Callable

from devices.paper import CHARS_PER_LINE, DOTS_PER_LINE, check_paper_width
from devices.printer.base import PrintOutcome, ReceiptPrinter
from devices.printer.errors import PrinterError
from kiosk.kernel import children
from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import N_, gettext_for
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
#: The word that starts the layout's child (``kiosk.launcher.CHILDREN``).
LAYOUT_CHILD_WORD = "receipt-layout"
#: What the layout's child writes first, once python-escpos is imported (``wait_ready``).
READY = b"R"
#: How long a receipt's layout may take in its child before the receipt counts as not
#: printed: ~0.25 s normally, a few seconds on a small PC's first receipt after boot.
LAYOUT_TIMEOUT_S = 30.0


class ReceiptNotLaidOut(PrinterError):
    """The receipt's layout process failed or did not finish; nothing reached the printer."""

    technician_hint = "the receipt's layout process failed: see the kiosk's log, then `kiosk print-test`"


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

    def to_wire(self) -> dict:
        """As JSON-ready values, for the layout's child (:meth:`from_wire` reads them back)."""
        values = dataclasses.asdict(self)
        values["created_at"] = self.created_at.isoformat()
        values["status_lines"] = list(self.status_lines)
        return values

    @classmethod
    def from_wire(cls, values: dict) -> "ReceiptContent":
        return cls(**{**values, "created_at": dt.datetime.fromisoformat(values["created_at"]),
                      "status_lines": tuple(values["status_lines"])})


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

    def render_in_child(self, content: ReceiptContent, child: "LayoutChild | None" = None) -> bytes:
        """:meth:`render` in a child process (``receipt-layout``), in the receipt's own
        language (``content.language``): ``child`` when one was started ahead (it has
        imported python-escpos by now), else a new one. A child started ahead that fails
        gets one more chance in a new child. Raises :class:`ReceiptNotLaidOut` when the
        child fails, hangs or cannot start; its reason names an exception type, never text."""
        request = json.dumps({"layout": dataclasses.asdict(self), "content": content.to_wire()}).encode("utf-8")
        if child is not None:
            try:
                return child.lay_out(request)
            except ReceiptNotLaidOut as exc:
                log.warning("receipt layout started ahead failed (%s); laying it out again", exc)
        return LayoutChild().lay_out(request)


class LayoutChild:
    """One ``receipt-layout`` child: started (:meth:`__init__` returns at once) before the
    receipt it will lay out, so that python-escpos is imported while the citizen reads the
    review, and "Kirim" to the printer stays a matter of milliseconds. It lays out one
    receipt and ends; :meth:`discard` ends one that was not needed."""

    def __init__(self):
        self._ready = False  # its READY byte read (wait_ready)
        try:
            self._proc = subprocess.Popen([*children.command("kiosk.core.receipt", LAYOUT_CHILD_WORD)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          env=children.environ())
        except OSError as exc:
            self._proc, self._error = None, exc.strerror or type(exc).__name__

    def wait_ready(self, timeout: float = LAYOUT_TIMEOUT_S) -> bool:
        """Wait until the child has imported what a layout needs; False if it did not say
        so in ``timeout`` (it may still lay the receipt out, or fail then)."""
        if self._proc is None or self._ready:
            return self._ready
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        if ready:  # safe to read through the buffered reader: the child writes nothing more
            # until it has its request, and communicate() later reads the pipe's fd directly
            self._ready = self._proc.stdout.read(1) == READY
        return self._ready

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """None while the child runs (or never started), else how it ended."""
        return self._proc.poll() if self._proc is not None else None

    def lay_out(self, request: bytes, timeout: float = LAYOUT_TIMEOUT_S) -> bytes:
        """The receipt's bytes for one request (:meth:`ReceiptLayout.render_in_child`)."""
        proc = self._proc
        if proc is None:
            raise ReceiptNotLaidOut(f"the receipt's layout process did not start: {self._error}")
        try:
            out, err = proc.communicate(request, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise ReceiptNotLaidOut(f"the receipt's layout took more than {timeout:.0f} s") from None
        except OSError:  # the child died before it read the request (a broken pipe)
            proc.kill()
            out, err = proc.communicate()
        if not self._ready:
            if out[:1] == READY:
                out = out[1:]
            elif proc.returncode == 0:
                raise ReceiptNotLaidOut("the receipt's layout process did not start as expected")
        if proc.returncode != 0:
            said = err.decode("utf-8", "replace").strip().splitlines()
            reason = said[-1] if said and said[-1].isidentifier() else f"exit {proc.returncode}"
            raise ReceiptNotLaidOut(f"the receipt's layout process failed: {reason}")
        if not out:
            raise ReceiptNotLaidOut("the receipt's layout process wrote nothing")
        return out

    def discard(self) -> None:
        """End a child that no receipt needed: it reads an empty request and exits."""
        if self._proc is not None and self._proc.returncode is None:
            try:
                self._proc.communicate(b"", timeout=LAYOUT_TIMEOUT_S)
            except (subprocess.TimeoutExpired, OSError):
                self._proc.kill()
                self._proc.communicate()


def print_receipt(printer: ReceiptPrinter, content: ReceiptContent, *,
                  layout: ReceiptLayout = ReceiptLayout(), child: LayoutChild | None = None) -> PrintOutcome:
    """Lay out one receipt (in its child, in the receipt's language; ``child`` when one was
    started ahead) and send it to ``printer``; every failure, of the layout or of the
    printer, comes back in the outcome. Run it on the printer's thread."""
    return printer.print_job(lambda: layout.render_in_child(content, child), job=content.job_name)


def main(argv: list[str]) -> int:
    """The layout's child (``receipt-layout``): a layout and a receipt's content as JSON on
    stdin, :data:`READY` then the receipt's ESC/POS bytes on stdout; nothing on stdin, nothing to do (a child
    started ahead that no receipt needed). On a failure: the frames and, as the last line
    of stderr, the exception's type (its message may quote the receipt), exit 1."""
    del argv
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the receipt's bytes
    try:
        from devices.printer.capabilities import importing_escpos

        with importing_escpos():  # this child has one thread
            from escpos.printer import Dummy  # noqa: F401 - imported while the citizen reads the review

        out.write(READY)
        out.flush()
        raw = sys.stdin.buffer.read()
        if not raw:
            return 0
        request = json.loads(raw)
        content = ReceiptContent.from_wire(request["content"])
        data = ReceiptLayout(**request["layout"]).render(content, gettext=gettext_for(content.language))
    except Exception as exc:  # noqa: BLE001 - the parent reads the type; the message may hold text
        sys.stderr.write("".join(traceback.format_tb(exc.__traceback__)) + type(exc).__name__ + "\n")
        return 1
    out.write(data)
    out.close()
    # The parent waits for this child's end to know it succeeded: end now. Python's own
    # teardown (python-escpos, Pillow and PyYAML loaded) took 20 ms of the citizen's wait
    # for a receipt laid out in 2; this child holds nothing that needs it (no file open for
    # writing, its scratch directory already gone).
    sys.stdout.flush()  # the library's words, on stderr since the dup2 above
    sys.stderr.flush()
    os._exit(0)


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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
