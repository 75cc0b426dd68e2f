"""The receipt number cannot be lost: the receipt screen warns before it goes and a touch
keeps it; a receipt that did not print stays until the citizen has written the number
down, offers "print again" once the printer is back; Welcome says when the printer is down."""
from __future__ import annotations

import pytest

from devices.escpos_sim import parse_escpos
from devices.printer.file import FilePrinter
from devices.printer.network import NetworkPrinter
from kiosk.core.printer_watch import FAILED_RECEIPT_CHECK_EVERY_S, WELCOME_CHECK_EVERY_S
from kiosk.kernel.tracking_id import format_tracking_id
from tests.support.kiosk_ui import (
    T,
    assert_print_failed_shows_the_number,
    show_receipt_for_saved_report,
    wait_overlay,
)
from tests.support.printer_sims import TcpPrinterSimulator

pytestmark = pytest.mark.ui

WRITTEN = "I have written it down"
PRINTER_DOWN = "The printer is not working: your report number will be shown on screen to write down"


def blocked_printer(env) -> FilePrinter:
    """A file printer whose receipts folder cannot exist: a file stands where it should be."""
    blocker = env.config.data_path / "blocked"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the receipts directory should be")
    return FilePrinter(blocker / "receipts")


def print_again_shown(kiosk) -> bool:
    button = kiosk.screen.ids.print_again
    return button.opacity > 0 and not button.disabled and button.width > 0 and button.text == T(kiosk, "Print again")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_receipt_counts_down_before_it_goes_and_a_touch_keeps_it(kiosk, clock, env, lang):
    """GIVEN a printed receipt WHEN nobody touches it for the receipt timeout THEN the idle
    warning counts down at least 20 s with Continue (the report is saved, only the screen
    closes); any touch on the receipt starts the wait again; then it returns to Welcome."""
    kiosk.app.lang = lang
    saved = show_receipt_for_saved_report(kiosk, env)
    kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="printing")
    timeout = env.config.receipt_timeout_s

    clock.advance(timeout - 1)
    kiosk.frames(5)
    assert not kiosk.app.idle_overlay.is_open
    kiosk.tap(kiosk.screen.ids.tracking)  # the citizen reads the number again
    clock.advance(timeout - 1)
    kiosk.frames(5)
    assert not kiosk.app.idle_overlay.is_open and kiosk.current == "receipt"

    clock.advance(1.5)
    wait_overlay(kiosk, True)
    seconds = kiosk.app.idle_overlay.seconds
    assert 20 <= seconds <= env.config.idle_warning_s
    assert T(kiosk, "Your report is saved. For your privacy, this screen will close in {seconds} seconds.",
             seconds=int(seconds)) in kiosk.all_text()
    kiosk.screenshot("09-receipt-idle-warning")

    kiosk.tap(kiosk.app.idle_overlay.ids.continue_button)
    wait_overlay(kiosk, False)
    assert kiosk.current == "receipt" and format_tracking_id(saved.tracking_id) in kiosk.all_text()

    clock.advance(timeout + 0.5)
    wait_overlay(kiosk, True)
    clock.advance(env.config.idle_warning_s)
    kiosk.wait_until(lambda: kiosk.current == "welcome", what="back to Welcome")
    assert kiosk.app.root.get_screen("receipt").tracking_text == ""


@pytest.mark.parametrize("lang", ["id", "en"])
def test_unprinted_number_stays_until_written_down(kiosk, clock, env, lang):
    """GIVEN a printer that cannot print WHEN the receipt fails THEN the number stays on
    screen past the receipt, idle and warning times, with no countdown, until the citizen
    taps "I have written it down"; back on Welcome, the printer notice is shown."""
    env.printer = blocked_printer(env)
    kiosk.app.lang = lang
    saved = show_receipt_for_saved_report(kiosk, env)
    assert_print_failed_shows_the_number(kiosk, env, saved)
    assert kiosk.screen.ids.done.text == T(kiosk, WRITTEN)
    assert not print_again_shown(kiosk)
    kiosk.screenshot("08-receipt-write-down")

    config = env.config
    clock.advance(config.receipt_timeout_s + config.idle_timeout_s + config.idle_warning_s + 1)
    kiosk.frames(10)
    assert kiosk.current == "receipt" and not kiosk.app.idle_overlay.is_open
    assert format_tracking_id(saved.tracking_id) in kiosk.all_text()
    assert not print_again_shown(kiosk)  # the printer is still down

    kiosk.tap(kiosk.screen.ids.done)
    assert kiosk.current == "welcome"
    assert kiosk.app.root.get_screen("receipt").tracking_text == ""
    kiosk.wait_until(lambda: T(kiosk, PRINTER_DOWN) in kiosk.all_text(), what="the printer notice")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_print_again_once_the_printer_is_back(kiosk, clock, env, lang):
    """GIVEN a receipt that failed for lack of paper WHEN the paper is back THEN "Print
    again" appears within a few seconds and prints the receipt, once however often it is
    tapped, and the screen is the ordinary printed receipt again."""
    sim = TcpPrinterSimulator(state="paper_out")
    env.printer = NetworkPrinter("127.0.0.1", sim.port, timeout=0.5)
    try:
        kiosk.app.lang = lang
        saved = show_receipt_for_saved_report(kiosk, env)
        assert_print_failed_shows_the_number(kiosk, env, saved)
        receipt = kiosk.app.session.receipt

        clock.advance(FAILED_RECEIPT_CHECK_EVERY_S)  # asked again: still no paper
        kiosk.wait_until(lambda: receipt.watch.asking, what="a printer question")
        kiosk.wait_until(lambda: not receipt.watch.asking, what="the printer's answer")
        kiosk.frames(2)
        assert not print_again_shown(kiosk) and kiosk.screen.print_state == "failed"

        sim.state = "online"  # paper loaded
        clock.advance(FAILED_RECEIPT_CHECK_EVERY_S)
        kiosk.wait_until(lambda: print_again_shown(kiosk), what="Print again")
        assert T(kiosk, "Print again") in kiosk.all_text()
        kiosk.screenshot("08-receipt-print-again")

        before = len(sim.jobs)
        where = kiosk.screen.ids.print_again.to_window(*kiosk.screen.ids.print_again.center)
        kiosk.tap_at(*where)
        kiosk.tap_at(*where)  # people tap twice: the second lands on nothing, "written down" does not move under it
        assert kiosk.current == "receipt"
        kiosk.wait_until(lambda: kiosk.screen.print_state != "printing", what="the receipt printed again")
        assert kiosk.screen.print_state == "printed"
        receipts = [job for job in sim.wait_for_jobs(before + 1)[before:] if len(job) > 100]
        assert len(receipts) == 1
        printed = parse_escpos(receipts[0])
        assert printed.qr_payloads == [saved.tracking_id]
        assert kiosk.screen.ids.done.text == T(kiosk, "Done") and not print_again_shown(kiosk)
        assert T(kiosk, "Take your receipt and keep it. You need this number to check the status.") in kiosk.all_text()
    finally:
        sim.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_welcome_says_when_the_printer_cannot_print(kivy_window, env, clock, lang):
    """GIVEN a printer out of paper THEN Welcome says, before anyone starts, that the number
    will be shown on screen to write down (whole, at each kiosk screen size); once the
    printer can print again, within a minute, it says nothing of the kind."""
    from tests.support.text_fit import assert_fits_at_kiosk_sizes
    from tests.support.ui_driver import KioskDriver

    sim = TcpPrinterSimulator(state="paper_out")
    env.printer = NetworkPrinter("127.0.0.1", sim.port, timeout=0.5)
    kiosk = KioskDriver(env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        kiosk.wait_until(lambda: T(kiosk, PRINTER_DOWN) in kiosk.all_text(), what="the printer notice")
        assert kiosk.screen.ids.printer_notice.text == T(kiosk, PRINTER_DOWN)
        assert not kiosk.screen.ids.start.disabled  # reports are still taken
        assert_fits_at_kiosk_sizes(kiosk, kiosk.screen.ids.printer_notice, "01-welcome-printer-down")
        kiosk.screenshot("01-welcome-printer-down")

        sim.state = "online"
        clock.advance(WELCOME_CHECK_EVERY_S)
        kiosk.wait_until(lambda: T(kiosk, PRINTER_DOWN) not in kiosk.all_text(), what="the notice gone")
        assert kiosk.screen.ids.printer_notice.height == 0
    finally:
        kiosk.close()
        sim.close()


def test_the_receipt_screen_s_qr_code_reads_as_the_receipt_s(kiosk, env):
    """GIVEN a saved report on the receipt screen THEN the QR code on the screen, as the
    window draws it, reads (zxing-cpp, as a phone would) as the printed receipt's: upright
    and not mirrored (the texture is made from the code's modules, bottom row first)."""
    import cv2
    import zxingcpp

    from tests.support.text_fit import picture

    saved = show_receipt_for_saved_report(kiosk, env)
    kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="printing")
    image = cv2.imread(str(picture(kiosk, "receipt-qr")))
    [code] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert code.text == kiosk.screen._content.qr_text and saved.tracking_id in code.text.replace("-", "")
    assert code.orientation == 0 and not code.extra.get("IsMirrored"), code.extra  # upside down reads at -90
