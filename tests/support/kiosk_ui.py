"""Steps a citizen takes on the real Kivy window, shared by the UI tests."""
from __future__ import annotations

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.tap_guard import REVIEW_READ_S
from kiosk.kernel.tracking_id import format_tracking_id
from screens.common import tr


def T(kiosk, msgid, **params):
    return tr(kiosk.app.lang, msgid, **params)


def start_report(kiosk, lang, *, screenshot: bool = True):
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    assert kiosk.app.lang == lang
    if screenshot:
        kiosk.screenshot("01-welcome")
    kiosk.tap(kiosk.screen.ids.start)
    assert kiosk.current == "kind"


def fill_to_review(kiosk, lang, title: str, description: str, *, screenshot: bool = True,
                   anonymous: bool = False, confidential: bool = False):
    """Welcome -> the review screen with the first kind, category, office offered and
    kecamatan, and the two privacy questions answered (No, No unless told)."""
    start_report(kiosk, lang, screenshot=screenshot)
    fill_to_identity(kiosk, title, description, anonymous=anonymous, confidential=confidential)
    go_next(kiosk)
    assert kiosk.current == "review"


def fill_to_identity(kiosk, title: str, description: str, *, anonymous: bool = False, confidential: bool = False):
    """From the kind step to the identity step: the first kind, category, office offered
    and kecamatan, ``title`` and ``description`` typed on the on-screen keyboard, and the two privacy
    questions answered."""
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    type_into(kiosk, kiosk.screen.ids.title, title)
    type_into(kiosk, kiosk.screen.ids.description, description)
    go_next(kiosk)
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    assert kiosk.current == "identity"
    answer_privacy(kiosk, anonymous=anonymous, confidential=confidential)


def answer_privacy(kiosk, *, anonymous: bool, confidential: bool):
    """On the identity step: Yes or No to "hide your name" and to "keep the content private"."""
    for name, yes in (("anonymous", anonymous), ("confidential", confidential)):
        button = kiosk.screen.ids[name].ids["yes" if yes else "no"]
        kiosk.scroll_into_view(button)
        kiosk.tap(button)
        assert kiosk.app.flow.draft.privacy_answer(name) is yes


def send(kiosk):
    """On the review: read it for as long as Send waits, then tap Send (at the bottom)."""
    assert kiosk.current == "review"
    kiosk.advance_clock(max(0.0, REVIEW_READ_S - kiosk.app.tap_guard.shown_for()))
    kiosk.wait_until(lambda: not kiosk.screen.ids.send.disabled, what="Send to take taps")
    kiosk.tap(kiosk.screen.ids.send)


def assert_out_of_service(kiosk, screenshot: str):
    """Welcome says the kiosk cannot take reports, and neither button leaves it."""
    assert kiosk.app.out_of_service and not kiosk.app.ready
    assert T(kiosk, "Sorry, this kiosk cannot take reports right now. Please ask the staff at the counter.") \
        in kiosk.all_text()
    kiosk.screenshot(screenshot)
    kiosk.tap(kiosk.screen.ids.start)
    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "welcome"


def go_next(kiosk):
    """Next on a question; Send on the review."""
    if kiosk.current == "review":
        send(kiosk)
    else:
        kiosk.tap(kiosk.bar("next"))


def fill_category(kiosk, *, screenshot: bool = True):
    """The category step (the first category), then the agency step (the first office
    offered: one that usually handles that category); a screenshot of each unless told."""
    assert kiosk.current == "category"
    assert T(kiosk, "Step {n} of {total}", n=2, total=6) in kiosk.all_text()
    categories = kiosk.screen.ids.categories.children[::-1]
    kiosk.tap(categories[0])
    if screenshot:
        kiosk.screenshot("03-category")
    go_next(kiosk)
    fill_agency(kiosk, screenshot=screenshot)


def agency_buttons(kiosk) -> list:
    """The agency step's answers top to bottom: "I don't know", then the offices that
    usually handle the category, then the others."""
    ids = kiosk.screen.ids
    return [ids.unknown, *ids.usual.children[::-1], *ids.agencies.children[::-1]]


def fill_agency(kiosk, *, unknown: bool = False, screenshot: bool = True):
    """On the agency step: the first office offered, or "I don't know"; then Next."""
    assert kiosk.current == "agency"
    assert T(kiosk, "Step {n} of {total}", n=3, total=6) in kiosk.all_text()
    choice = agency_buttons(kiosk)[0 if unknown else 1]
    kiosk.tap(choice)
    assert choice.state == "down" and kiosk.app.flow.draft.agency_answered
    if screenshot:
        kiosk.screenshot("03-agency")
    go_next(kiosk)


def type_into(kiosk, field, text):
    kiosk.focus(field)
    kiosk.type_keys(text)


def assert_above_keyboard(kiosk, field):
    """The docked keyboard leaves the focused field and the Next button in view."""
    keyboard = kiosk.keyboard
    assert keyboard is not None and field.focus
    keyboard_top = keyboard.y + keyboard.height * keyboard.scale
    next_button = kiosk.bar("next")
    bar_bottom = next_button.parent.y
    field_bottom = field.to_window(field.x, field.y)[1]
    field_top = field.to_window(field.x, field.top)[1]
    assert keyboard_top - 1 <= field_bottom and field_top <= bar_bottom + 1, (
        f"field spans {field_bottom:.0f}-{field_top:.0f}, visible band {keyboard_top:.0f}-{bar_bottom:.0f}")
    assert next_button.to_window(next_button.x, next_button.y)[1] >= keyboard_top


def every_text_in_app(kiosk) -> str:
    texts = []
    for screen in kiosk.app.root.screens:
        for widget in screen.walk():
            text = getattr(widget, "text", None)
            if isinstance(text, str):
                texts.append(text)
    for widget in kiosk.app.idle_overlay.walk():
        texts.append(str(getattr(widget, "text", "")))
    return "\n".join(texts)


def wait_overlay(kiosk, open_: bool):
    kiosk.wait_until(lambda: kiosk.app.idle_overlay.is_open is open_, what=f"idle overlay open={open_}")
    kiosk.frames(2)


def saved_report(env) -> str:
    draft = Draft(
        kind=ReportKind.PENGADUAN, category_code=first_category(env), title="Lampu jalan padam",
        description="Lampu jalan di depan pasar padam sejak minggu lalu.", incident_date=env.today(),
        kecamatan_code=first_kecamatan(env),
    )
    return env.reports.submit(draft).tracking_id


def first_category(env):
    from kiosk.core import reference

    return reference.categories(env.store, "id")[0].code


def first_kecamatan(env):
    from kiosk.core import reference

    return reference.kecamatan(env.store)[0].code


def type_on_keypad(kiosk, text: str):
    keys = {k.text: k for k in kiosk.screen.ids.keypad.children}
    for symbol in text:
        kiosk.tap(keys[symbol])


def mistype(tracking_id: str) -> str:
    """Change one random-part symbol to another valid symbol."""
    position = 6
    replacement = "7" if tracking_id[position] != "7" else "8"
    return tracking_id[:position] + replacement + tracking_id[position + 1:]


def assert_print_failed_shows_the_number(kiosk, env, saved) -> None:
    """The receipt did not print: the screen says so and shows the number to write down,
    and the report is kept."""
    kiosk.wait_until(lambda: kiosk.screen.print_state != "printing", what="printing to end")
    assert kiosk.screen.print_state == "failed"
    shown = kiosk.all_text()
    assert T(kiosk, "The receipt could not be printed. Please write down this number.") in shown
    assert format_tracking_id(saved.tracking_id) in shown
    assert env.reports.find(saved.tracking_id) is not None


def show_receipt_for_saved_report(kiosk, env):
    saved = env.reports.submit(Draft(
        kind=ReportKind.ASPIRASI, category_code=first_category(env), title="Tambah halte bus",
        description="Mohon ditambah halte bus di depan kantor kecamatan.", incident_date=env.today(),
        kecamatan_code=first_kecamatan(env),
    ))
    kiosk.app.submitted(saved)
    kiosk.frames(2)
    return saved
