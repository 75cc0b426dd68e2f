"""Issue 16 on the real window: "Kirim SMS ke nomor ini saat laporan dijawab".

Under the phone field of the identity step, a toggle, off until tapped, offered only while
a number is typed and the report is not anonymous; what the citizen chose reaches the
review, the saved report's wire body and the receipt. Driven with real touches, the
on-screen number pad and the keypad; drawn at 1280x800 and 1366x768 in both languages,
in normal and in large text with high contrast (pictures under tests/artifacts/<lang>/).
"""
from __future__ import annotations

import shutil

import pytest

from devices.escpos_sim import parse_escpos
from kiosk.core.receipt import SMS_WHEN_ANSWERED
from kiosk.core.speech_guide import CHOSEN, NOT_CHOSEN
from kiosk.kernel.tracking_id import parse_tracking_id
from screens import access
from tests.support.kiosk_ui import T, answer_privacy, fill_to_identity, go_next, start_report, type_into
from tests.support.text_fit import KIOSK_SIZES, assert_text_fits, picture, window_size
from tests.support.ui_driver import ARTIFACTS
from tests.ui.test_ui_contrast import _assert_looks_chosen, _grey_box
from tests.ui.test_ui_keypad_speech import focus_on, key, labels, same, speech_on

pytestmark = pytest.mark.ui

PHONE = "081234567890"
TOGGLE = "Send me an SMS when the report is answered"


def offered(kiosk) -> bool:
    """The toggle is there for the citizen: drawn, takes taps, on the focus ring."""
    toggle = kiosk.screen.ids.sms
    on_ring = any(same(w, toggle) for w in kiosk.app.ring.items())
    shown = toggle.opacity > 0 and toggle.height > 1 and not toggle.disabled
    assert shown == on_ring == kiosk.screen.sms_offered, (shown, on_ring, kiosk.screen.sms_offered)
    return shown


def to_identity_with_phone(kiosk, lang: str, *, anonymous: bool = False):
    """Welcome -> the identity step, both questions answered, the phone typed on the number
    pad (still open). Returns the phone field."""
    start_report(kiosk, lang, screenshot=False)
    fill_to_identity(kiosk, "jalan rusak", "lubang besar di depan pasar", anonymous=anonymous)
    assert not offered(kiosk), "offered before any number was typed"
    phone = kiosk.screen.ids.phone
    type_into(kiosk, phone, PHONE)
    assert kiosk.app.flow.draft.reporter_phone == PHONE
    return phone


def assert_in_view_above_keyboard(kiosk, widget) -> None:
    """``widget`` lies whole between the docked keyboard's top and the step bar."""
    keyboard = kiosk.keyboard
    assert keyboard is not None
    keyboard_top = keyboard.y + keyboard.height * keyboard.scale
    bar_bottom = kiosk.bar("next").parent.y
    bottom, top = widget.to_window(widget.x, widget.y)[1], widget.to_window(widget.x, widget.top)[1]
    assert keyboard_top - 1 <= bottom and top <= bar_bottom + 1, (
        f"the toggle spans {bottom:.0f}-{top:.0f}, the band above the keyboard {keyboard_top:.0f}-{bar_bottom:.0f}")


def close_keyboard(kiosk) -> None:
    """"Selesai" on the pad, when it is still open (a tap outside the field closes it too)."""
    if kiosk.keyboard is not None:
        kiosk.press_key(kiosk.close_key)
    kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed")


def receipt_picture(env, tracking_id: str):
    """The file printer's picture of the printed receipt."""
    (drawn,) = sorted(env.config.receipts_path.glob(f"{tracking_id}*.png"))
    return drawn


def receipt_lines(env, tracking_id: str) -> list[str]:
    (printed,) = sorted(env.config.receipts_path.glob(f"{tracking_id}*.bin"))
    return [line.text.strip() for line in parse_escpos(printed.read_bytes()).lines]


def file_it(kiosk) -> str:
    """From the review: Send, the receipt printed; the Tracking ID."""
    go_next(kiosk)  # Send
    assert kiosk.current == "receipt"
    kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="the receipt printed")
    return parse_tracking_id(kiosk.screen.tracking_text)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_citizen_who_gives_a_phone_and_agrees_gets_the_sms_promise(kiosk, env, lang):
    """GIVEN the identity step, both questions answered No WHEN the citizen types a phone on
    the number pad and taps "send me an SMS" THEN the toggle appears under the number, above
    the pad, off; the tap turns it on (check mark and thick border, in greyscale too); the
    review says so; the saved report's wire body carries ``sms_consent: true`` with the
    phone; the printed receipt and the receipt screen say an SMS will come."""
    phone = to_identity_with_phone(kiosk, lang)
    toggle = kiosk.screen.ids.sms
    assert offered(kiosk) and toggle.state == "normal" and not kiosk.app.flow.draft.sms_consent
    assert toggle.text == T(kiosk, TOGGLE)
    assert phone.focus
    assert_in_view_above_keyboard(kiosk, phone)
    assert_in_view_above_keyboard(kiosk, toggle)
    kiosk.screenshot("06-identity-sms-offered")
    before = _grey_box(kiosk, toggle, f"sms-toggle-off-{lang}")
    kiosk.tap(toggle)
    assert toggle.state == "down" and kiosk.app.flow.draft.sms_consent is True
    _assert_looks_chosen(before, _grey_box(kiosk, toggle, f"sms-toggle-on-{lang}"), "SMS toggle")
    kiosk.screenshot("06-identity-sms-on")
    close_keyboard(kiosk)
    go_next(kiosk)

    assert kiosk.current == "review"
    identity = next(row for row in kiosk.screen.ids.rows.children if row.label == T(kiosk, "Your identity"))
    assert identity.value == f"{T(kiosk, '(not given)')}, {PHONE}\n{T(kiosk, 'SMS when answered: yes')}"
    kiosk.scroll_into_view(identity)
    kiosk.screenshot("07-review-sms")
    tracking_id = file_it(kiosk)
    line = T(kiosk, SMS_WHEN_ANSWERED)
    assert kiosk.screen.ids.sms_note.text == line and kiosk.screen.ids.sms_note.height > 1
    assert_text_fits(kiosk.screen.ids.sms_note)
    kiosk.screenshot("08-receipt-sms")

    body = env.reports.payload(tracking_id).body()  # what the sync worker sends
    assert body["sms_consent"] is True and body["reporter_phone"] == PHONE and body["anonymous"] is False
    assert line in receipt_lines(env, tracking_id)
    shutil.copy(receipt_picture(env, tracking_id), ARTIFACTS / lang / "08-receipt-sms-printed.png")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_anonymous_report_is_never_offered_the_sms_and_sends_no_consent(kiosk, env, lang):
    """GIVEN a citizen who chose to hide their name WHEN they type a phone THEN no SMS toggle
    is offered; answering No offers it, and Yes again after agreeing takes it away, off;
    the report goes without ``sms_consent`` and no receipt speaks of an SMS."""
    to_identity_with_phone(kiosk, lang, anonymous=True)
    assert not offered(kiosk)
    close_keyboard(kiosk)
    kiosk.screenshot("06-identity-anonymous-no-sms")
    answer_privacy(kiosk, anonymous=False, confidential=False)
    assert offered(kiosk)
    kiosk.scroll_into_view(kiosk.screen.ids.sms)
    kiosk.tap(kiosk.screen.ids.sms)
    assert kiosk.app.flow.draft.sms_consent is True
    answer_privacy(kiosk, anonymous=True, confidential=False)
    assert not offered(kiosk) and kiosk.screen.ids.sms.state == "normal"
    assert kiosk.app.flow.draft.sms_consent is False
    go_next(kiosk)

    assert kiosk.current == "review"
    assert T(kiosk, "SMS when answered: yes") not in kiosk.all_text()
    assert T(kiosk, "SMS when answered: no") not in kiosk.all_text()
    tracking_id = file_it(kiosk)
    assert kiosk.screen.ids.sms_note.text == ""
    body = env.reports.payload(tracking_id).body()
    assert "sms_consent" not in body and body["anonymous"] is True
    assert T(kiosk, SMS_WHEN_ANSWERED) not in receipt_lines(env, tracking_id)


def test_emptying_the_phone_takes_the_toggle_and_the_consent_away(kiosk, env):
    phone = to_identity_with_phone(kiosk, "id")
    kiosk.tap(kiosk.screen.ids.sms)
    assert kiosk.app.flow.draft.sms_consent is True
    kiosk.focus(phone)
    for _ in PHONE:
        kiosk.press_key("backspace")
    assert phone.text == "" and not offered(kiosk) and kiosk.app.flow.draft.sms_consent is False
    kiosk.type_keys("0812")
    assert offered(kiosk) and kiosk.screen.ids.sms.state == "normal"


def test_the_keypad_reaches_the_toggle_and_says_its_state(kiosk, env):
    """GIVEN a citizen on the keypad with speech WHEN the ring comes down from the phone to
    the toggle and Enter is pressed THEN it says the toggle's words and "not chosen", then
    "chosen" after Enter, and the consent is given; Enter again takes it back."""
    to_identity_with_phone(kiosk, "id")
    close_keyboard(kiosk)
    speech_on(kiosk)
    toggle = kiosk.screen.ids.sms
    focus_on(kiosk, toggle)
    assert labels(kiosk)[-2:] == [TOGGLE, NOT_CHOSEN]
    kiosk.settle()
    key(kiosk, access.ENTER)
    kiosk.wait_until(lambda: labels(kiosk)[-1] == CHOSEN, what=lambda: f"chosen said: {labels(kiosk)[-4:]}")
    assert labels(kiosk)[-2] == TOGGLE and kiosk.app.flow.draft.sms_consent is True
    kiosk.screenshot("keypad-identity-sms-ring")
    kiosk.settle()
    key(kiosk, access.ENTER)
    kiosk.wait_until(lambda: labels(kiosk)[-1] == NOT_CHOSEN, what=lambda: f"not chosen said: {labels(kiosk)[-4:]}")
    assert kiosk.app.flow.draft.sms_consent is False and toggle.state == "normal"


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large-contrast"])
def test_the_toggle_fits_at_both_kiosk_sizes_above_the_number_pad(kiosk, env, lang, large):
    """GIVEN the phone typed on the number pad and the toggle on (normal, or large text and
    high contrast chosen on the access bar) WHEN the window is 1280x800 and 1366x768 THEN
    the toggle's words fit it, and the field and the toggle sit above the pad, below the
    step bar; and with the pad closed the toggle is in the window. Pictures of each."""
    app = kiosk.app
    if large:
        for name in ("large_text", "high_contrast"):
            kiosk.tap(app.root.bar.ids[name])
        assert app.large_text and app.high_contrast
    phone = to_identity_with_phone(kiosk, lang)
    toggle = kiosk.screen.ids.sms
    kiosk.tap(toggle)
    assert toggle.state == "down"
    mode = "large-contrast" if large else "normal"
    for size in KIOSK_SIZES:
        with window_size(kiosk, size):
            kiosk.focus(phone)  # as the citizen finds it: typing the number
            assert_text_fits(toggle)
            assert_in_view_above_keyboard(kiosk, phone)
            assert_in_view_above_keyboard(kiosk, toggle)
            picture(kiosk, f"sms-toggle-{mode}-{size[0]}x{size[1]}-numpad")
            close_keyboard(kiosk)
            kiosk.scroll_into_view(toggle)
            assert_text_fits(toggle)
            picture(kiosk, f"sms-toggle-{mode}-{size[0]}x{size[1]}")


def test_a_language_switch_on_the_identity_step_keeps_the_consent(kiosk, env):
    """GIVEN the toggle on, in Bahasa Indonesia WHEN the citizen switches to English on the
    step's bar THEN the toggle reads in English and is still on, and the consent stands."""
    to_identity_with_phone(kiosk, "id")
    kiosk.tap(kiosk.screen.ids.sms)
    close_keyboard(kiosk)
    bar = kiosk.bar("next").parent
    kiosk.tap(bar.ids.language.ids.lang_en)
    assert kiosk.app.lang == "en" and kiosk.current == "identity"
    toggle = kiosk.screen.ids.sms
    assert toggle.text == TOGGLE and toggle.state == "down" and offered(kiosk)
    assert kiosk.app.flow.draft.sms_consent is True and kiosk.app.flow.draft.reporter_phone == PHONE
