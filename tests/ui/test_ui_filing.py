"""The whole filing flow on the real Kivy window, with real touches and the on-screen keyboard.

Each test saves screenshots of the screens it passes under tests/artifacts/<lang>/.
"""
from __future__ import annotations

import logging

import pytest
from kivy.core.window import Window

from devices.escpos_sim import parse_escpos
from kiosk.kernel.tracking_id import format_tracking_id, parse_tracking_id
from tests.support.kiosk_ui import (
    T, answer_privacy, assert_above_keyboard, fill_category, fill_to_review, go_next, start_report, type_into,
)

pytestmark = pytest.mark.ui



@pytest.mark.parametrize("lang", ["id", "en"])
def test_citizen_files_a_report_and_gets_a_receipt(kiosk, env, lang, caplog):
    """GIVEN the Welcome screen WHEN a citizen answers every question with touches and the
    on-screen keyboard and taps Send THEN the report is in the database with its outbox
    entry, the receipt is printed with the Tracking ID, and the screen shows that ID.
    Nothing the citizen typed appears in the logs."""
    caplog.set_level(logging.DEBUG)
    start_report(kiosk, lang)
    assert T(kiosk, "Step {n} of {total}", n=1, total=6) in kiosk.all_text()
    kiosk.screenshot("02-kind")
    kiosk.tap(kiosk.screen.ids.choices.children[-1])  # first: Pengaduan / Complaint
    assert kiosk.current == "category"
    fill_category(kiosk)

    assert kiosk.current == "describe"
    title, description = kiosk.screen.ids.title, kiosk.screen.ids.description
    type_into(kiosk, title, "antrean ktp lama")
    keyboard_top = kiosk.keyboard.y + kiosk.keyboard.height * kiosk.keyboard.scale
    assert keyboard_top <= Window.height * 0.5, "the keyboard should take the bottom half at most"
    assert_above_keyboard(kiosk, title)
    kiosk.screenshot("04-describe-keyboard")
    type_into(kiosk, description, "saya menunggu lima jam di loket")
    assert_above_keyboard(kiosk, description)
    assert T(kiosk, "{count} of {limit} characters", count=31, limit=4000) in kiosk.all_text()
    go_next(kiosk)

    assert kiosk.current == "when_where", kiosk.all_text()
    assert env.today().strftime("%Y") in kiosk.screen.date_text
    kiosk.tap_text(T(kiosk, "Yesterday"))
    kiosk.scroll_into_view(kiosk.screen.ids.kecamatan.children[-1])  # "Kemarin" sits below the fold
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    kiosk.screenshot("05-when-where")
    type_into(kiosk, kiosk.screen.ids.location, "depan pasar")
    assert_above_keyboard(kiosk, kiosk.screen.ids.location)
    kiosk.screenshot("05-when-where-keyboard")
    go_next(kiosk)

    assert kiosk.current == "identity"
    type_into(kiosk, kiosk.screen.ids.name, "Budi")
    assert_above_keyboard(kiosk, kiosk.screen.ids.name)
    answer_privacy(kiosk, anonymous=False, confidential=True)
    kiosk.screenshot("06-identity")
    go_next(kiosk)

    assert kiosk.current == "review"
    shown = kiosk.all_text()
    for expected in ("Antrean ktp lama", "saya menunggu lima jam di loket", "Budi", T(kiosk, "Confidential: yes")):
        assert expected.lower() in shown.lower()
    kiosk.screenshot("07-review")
    go_next(kiosk)  # Send

    assert kiosk.current == "receipt"
    receipt_screen = kiosk.screen
    kiosk.wait_until(lambda: receipt_screen.print_state != "printing", what="printing")
    assert receipt_screen.print_state == "printed"
    tracking_id = parse_tracking_id(receipt_screen.tracking_text)
    assert format_tracking_id(tracking_id) in kiosk.all_text()
    kiosk.screenshot("08-receipt")

    stored = env.reports.find(tracking_id)
    assert stored is not None and stored.confidential
    assert getattr(stored.outbox_state, "value", stored.outbox_state) == "pending"
    bins = sorted(env.config.receipts_path.glob(f"{tracking_id}*.bin"))
    assert len(bins) == 1 and bins[0].with_suffix(".png").exists()
    parsed = parse_escpos(bins[0].read_bytes())
    assert parsed.qr_payloads == [tracking_id]
    assert "lama" not in parsed.text.lower(), "a confidential title must not be printed"

    kiosk.tap(receipt_screen.ids.done)
    assert kiosk.current == "welcome"
    assert kiosk.app.lang == env.config.language
    logged = caplog.text.lower()
    assert "report saved" in logged  # the log is really captured
    for typed in ("antrean", "menunggu lima jam", "budi"):
        assert typed not in logged, f"{typed!r} leaked into the logs"


def test_back_never_loses_what_was_typed(kiosk):
    start_report(kiosk, "id")
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    type_into(kiosk, kiosk.screen.ids.title, "lampu jalan mati")
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "agency"
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "category"
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "kind"
    for _ in range(3):  # kind, category and office all still chosen
        kiosk.tap(kiosk.bar("next"))
    assert kiosk.current == "describe"
    assert kiosk.screen.ids.title.text == "Lampu jalan mati" or kiosk.screen.ids.title.text == "lampu jalan mati"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_missing_answers_are_explained_in_the_citizens_language(kiosk, lang):
    start_report(kiosk, lang)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    go_next(kiosk)  # no category chosen
    assert kiosk.current == "category"
    assert T(kiosk, "Choose a category.") in kiosk.all_text()
    kiosk.screenshot("03-category-error")
    fill_category(kiosk)
    go_next(kiosk)  # nothing typed
    assert kiosk.current == "describe"
    assert T(kiosk, "Please write a short title.") in kiosk.all_text()
    assert T(kiosk, "Please tell us what happened.") in kiosk.all_text()
    kiosk.screenshot("04-describe-errors")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_hostile_text_is_cleaned_with_a_message(kiosk, env, lang):
    """Pasting 100,000 characters, emoji, right-to-left text and control characters:
    the kiosk keeps going, keeps what it can, and says what it did."""
    start_report(kiosk, lang)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    title, description = kiosk.screen.ids.title, kiosk.screen.ids.description
    kiosk.focus(description)
    description.insert_text("x" * 100_000)  # what TextInput.paste() does with the clipboard
    kiosk.frames(3)
    assert len(description.text) == 4000
    assert len(kiosk.app.flow.draft.description) == 4000
    assert T(kiosk, "{count} of {limit} characters", count=4000, limit=4000) in kiosk.all_text()
    kiosk.focus(title)
    title.insert_text("Jalan\x1b@\x1dV rusak \U0001F621 \u202e\u0627\u0644\u0637\u0631\u064a\u0642")
    kiosk.frames(3)
    assert kiosk.app.flow.draft.title.startswith("Jalan")
    for bad in ("\x1b", "\x1d", "\U0001F621", "\u202e", "\u0627"):
        assert bad not in title.text and bad not in kiosk.app.flow.draft.title
    assert kiosk.screen.title_notice, "the citizen is told characters were left out"
    kiosk.screenshot("04-describe-hostile")
    go_next(kiosk)
    assert kiosk.current == "when_where"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_unexpected_error_shows_apology_and_keeps_the_draft(kiosk, env, lang):
    """A bug while saving must not crash the kiosk or show a traceback."""
    fill_to_review(kiosk, lang, "sampah menumpuk", "sampah tidak diangkut seminggu")

    real_submit = env.reports.submit

    def broken_submit(draft):
        raise RuntimeError("simulated bug with citizen text: sampah menumpuk")

    env.reports.submit = broken_submit
    try:
        go_next(kiosk)
        kiosk.frames(3)
        assert kiosk.current == "apology"
        text = kiosk.all_text()
        assert "Traceback" not in text and "RuntimeError" not in text
        kiosk.screenshot("09-apology")
        kiosk.tap(kiosk.screen.ids.resume)
        assert kiosk.current == "review"
        assert kiosk.app.flow.draft.title.lower() == "sampah menumpuk"
    finally:
        env.reports.submit = real_submit
    go_next(kiosk)
    assert kiosk.current == "receipt"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_storage_fault_keeps_the_draft_and_says_try_again(kiosk, env, lang):
    """GIVEN a database that refuses the write (here: a trigger, as a full disk would)
    WHEN Send is tapped THEN the citizen is told nothing is lost and to try again, the
    review stays with every answer, and once the fault is gone Send works."""
    from sqlalchemy import text

    fill_to_review(kiosk, lang, "jembatan rusak", "jembatan kayu di desa patah")
    with env.store.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER full_disk BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))
    go_next(kiosk)
    assert kiosk.current == "review"
    assert T(kiosk, "Your report could not be saved just now. Nothing is lost: please try again.") in kiosk.all_text()
    assert "jembatan rusak" in kiosk.all_text().lower()
    kiosk.screenshot("07-review-save-failed")
    with env.store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER full_disk"))
    go_next(kiosk)
    assert kiosk.current == "receipt"
