"""A walk through every citizen-facing screen and state, with real taps, for tests that
look at each one (text sizes, contrast, fit).

    with tour_env(tmp_path, clock) as env:          # or the ``tour_env`` fixture pattern below
        kiosk = KioskDriver(env)
        for stop in tour(kiosk, env, "en"):
            ...  # the window now shows ``stop``, settled; inspect kiosk.screen and the overlays

What the environment must have (``tour_env`` builds it; a test's own env works if it has
the same): a central that does not answer (``central_url`` on a closed port), so an own
report's last known status, with the office's reply, is what the status screen shows;
``status_base_url`` set; ``camera_source`` naming a camera that does not exist, so "Check
status" opens the scan screen, which says the camera is missing and offers typing. The
printer is the env's own (a file printer); the tour swaps in one that cannot print for
the failed receipt and puts the env's back afterwards. Each tour saves three reports.

A fixture:

    @pytest.fixture
    def env(tmp_path, clock):
        with tour_env(tmp_path, clock) as environment:
            yield environment

Stops, in order (each yielded once, by name): welcome, help-call, scan, status-entry, status-invalid,
status-not-found, status-found-reply, status-objecting, kind, kind-missing, confirm-discard, then each
choice step of the filing path by its screen name (category; agency where it is a step of
its own), describe, describe-keyboard, when_where-calendar, identity, identity-numpad (a phone
typed: the SMS toggle under it), identity-sms (the toggle on), review, idle-warning,
review-save-failed, apology, receipt-printed, receipt-print-failed,
welcome-printer-down. Overlays shown at a stop: ``kiosk.app.idle_overlay`` (idle-warning),
``kiosk.app.help_overlay`` (help-call), ``kiosk.app.confirm_leave`` (confirm-discard); the docked keyboard (``kiosk.keyboard``) at
status-objecting, describe-keyboard and identity-numpad.

The tour only leans on kiosk_ui's steps and on the screens' ids; a choice step it does not
know is answered by tapping the first choice of each of its choice lists, so a new step
(the agency split off the category) is walked, and yielded, without changing the tour.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from kivy.uix.togglebutton import ToggleButton

from tests.support.answered import REPLY, answered_status, offline_kiosk
from tests.support.kiosk_ui import (
    answer_privacy, go_next, mistype, saved_report, send, type_into, type_on_keypad, wait_overlay,
)

#: The screens of the filing path the tour answers itself; any other step is a choice step.
_OWN_STEPS = ("kind", "describe", "when_where", "identity", "review")


@contextlib.contextmanager
def tour_env(tmp_path, clock, extra_config: str = "") -> Iterator:
    """A kiosk environment every stop of the tour can be reached in (see the module's doc);
    ``extra_config``: more lines of its TOML config."""
    with offline_kiosk(tmp_path, clock, f'camera_source = "/dev/video99"\n{extra_config}') as env:
        yield env


def _blocked_printer(env):
    """A file printer whose receipts folder cannot exist (a file stands where it should be)."""
    from devices.printer.file import FilePrinter

    blocker = env.config.data_path / "tour-blocked"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the receipts directory should be")
    return FilePrinter(blocker / "receipts")


def _check_number(kiosk, typed: str) -> None:
    """Clear the keypad's number, type ``typed`` and tap Check; wait for the answer."""
    while kiosk.screen.typed:
        kiosk.tap(kiosk.screen.ids.backspace)
    type_on_keypad(kiosk, typed)
    kiosk.tap(kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the status lookup")
    kiosk.frames(3)


def _answer_choices(kiosk) -> None:
    """A choice step: tap the first choice of each list of choices on the screen."""
    screen = kiosk.screen
    for name, box in list(screen.ids.items()):
        choices = [c for c in box.children if isinstance(c, ToggleButton)] if hasattr(box, "children") else []
        if choices and len(choices) == len(box.children) and not any(c.state == "down" for c in choices):
            kiosk.scroll_into_view(choices[-1])
            kiosk.tap(choices[-1])  # children are in reverse order: the first shown
            if kiosk.current != screen.name:
                return


def _next_step(kiosk) -> None:
    before = kiosk.current
    go_next(kiosk)
    kiosk.frames(2)
    assert kiosk.current != before, f"Next did not leave {before}: {kiosk.all_text()[:300]!r}"


def _scroll_to(kiosk, scroll, widget) -> None:
    """As a citizen scrolls to what they want to tap, when it is not in view."""
    from screens.common import ensure_visible

    bottom, top = scroll.to_window(scroll.x, scroll.y)[1], scroll.to_window(scroll.x, scroll.top)[1]
    if not (bottom - 1 <= widget.to_window(widget.x, widget.y)[1] and widget.to_window(widget.x, widget.top)[1] <= top + 1):
        ensure_visible(scroll, widget)
        kiosk.frames(3)


def _choose(kiosk, lang: str, large_text: bool, high_contrast: bool) -> None:
    """What each citizen of the tour chooses on Welcome: the language, and large text and
    high contrast on the access bar, tapped as a citizen would."""
    app = kiosk.app
    if app.lang != lang:
        kiosk.tap(kiosk.screen.ids[f"lang_{lang}"])
    assert app.lang == lang
    for wanted, name in ((large_text, "large_text"), (high_contrast, "high_contrast")):
        if getattr(app, name) != wanted:
            kiosk.tap(app.root.bar.ids[name])
        assert getattr(app, name) == wanted, f"{name} did not follow the access bar"


def tour(kiosk, env, lang: str, *, large_text: bool = False, high_contrast: bool = False) -> Iterator[str]:
    """Drive ``kiosk`` (a KioskDriver on ``env``, on Welcome) through every citizen-facing
    screen and state in ``lang``, yielding each stop's name once it is shown and settled.
    ``large_text``, ``high_contrast``: each citizen of the tour turns them on at Welcome."""
    from kiosk.core.status_lookup import remember_remote_status
    from kiosk.kernel.tracking_id import new_tracking_id

    assert env.sync is not None and env.config.camera_source, "the tour needs tests.support.screen_tour.tour_env"
    app = kiosk.app
    reply_id = saved_report(env)
    remember_remote_status(env.store, reply_id, answered_status(reply_id, env.now()), env.now())

    def stop():
        kiosk.settle()
        kiosk.frames(3)

    # -- Welcome, and a status check -------------------------------------------------------
    assert kiosk.current == "welcome"
    _choose(kiosk, lang, large_text, high_contrast)
    stop()
    yield "welcome"

    app.call_staff()  # "Minta bantuan petugas" (the central does not answer: "ask at the counter")
    stop()
    yield "help-call"
    kiosk.tap(app.help_overlay.ids.arrived)
    assert not app.help_overlay.is_open

    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "scan"
    kiosk.wait_until(lambda: kiosk.screen.message == "no_camera", what="the scan screen's missing camera")
    stop()
    yield "scan"

    kiosk.tap(kiosk.screen.ids.type_instead)
    assert kiosk.current == "status"
    stop()
    yield "status-entry"

    _check_number(kiosk, mistype(reply_id))
    assert kiosk.screen.result_kind == "invalid"
    yield "status-invalid"

    _check_number(kiosk, new_tracking_id(env.config.kiosk_code))
    assert kiosk.screen.result_kind in ("unknown", "offline_unknown")
    yield "status-not-found"

    _check_number(kiosk, reply_id)
    assert kiosk.screen.result_kind == "found" and kiosk.screen.reply == REPLY
    yield "status-found-reply"

    # "Masalah belum selesai": the keypad folds away, the text field and the keyboard come.
    _scroll_to(kiosk, kiosk.screen.ids.result_scroll, kiosk.screen.ids.object)  # below the reply in large text
    kiosk.tap(kiosk.screen.ids.object)
    assert kiosk.screen.feedback_state == "objecting"
    kiosk.focus(kiosk.screen.ids.objection)
    assert kiosk.screen.feedback_state == "objecting"
    stop()
    yield "status-objecting"
    kiosk.tap(kiosk.screen.ids.cancel_objection)
    kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed")

    kiosk.tap(kiosk.screen.ids.back)
    assert kiosk.current == "welcome"

    # -- filing a report -------------------------------------------------------------------
    kiosk.tap(kiosk.screen.ids.start)
    assert kiosk.current == "kind"
    stop()
    yield "kind"

    kiosk.tap(kiosk.bar("next"))  # nothing chosen yet: the step says what is missing
    assert kiosk.current == "kind" and kiosk.screen.error_text
    stop()
    yield "kind-missing"

    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    assert kiosk.current != "kind"
    kiosk.tap(kiosk.bar("back"))
    assert kiosk.current == "kind"
    kiosk.tap(kiosk.bar("back"))
    kiosk.wait_until(lambda: app.confirm_leave.is_open, what="Discard this report?")
    stop()
    yield "confirm-discard"
    kiosk.tap(app.confirm_leave.ids.no)
    assert not app.confirm_leave.is_open and kiosk.current == "kind"
    kiosk.tap(kiosk.screen.ids.choices.children[-1])

    while kiosk.current not in _OWN_STEPS:  # category, agency, ...: one question each
        stop()
        yield kiosk.current
        _answer_choices(kiosk)
        if kiosk.current in _OWN_STEPS or kiosk.current != kiosk.screen.name:
            continue
        _next_step(kiosk)

    assert kiosk.current == "describe"
    stop()
    yield "describe"
    type_into(kiosk, kiosk.screen.ids.title, "jalan rusak")
    stop()
    yield "describe-keyboard"
    type_into(kiosk, kiosk.screen.ids.description, "lubang besar di jalan")
    _next_step(kiosk)

    assert kiosk.current == "when_where"
    day = next(b for b in kiosk.screen.ids.days.children if getattr(b, "date", None) == env.today())
    kiosk.scroll_into_view(day)
    kiosk.tap(day)
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    kiosk.screen.ids.scroll.scroll_y = 1
    stop()
    yield "when_where-calendar"
    _next_step(kiosk)

    assert kiosk.current == "identity"
    stop()
    yield "identity"
    kiosk.focus(kiosk.screen.ids.phone)
    kiosk.type_keys("081234567890")  # a number offers the SMS toggle under it (issue 16)
    assert kiosk.screen.sms_offered
    stop()
    yield "identity-numpad"
    kiosk.press_key(kiosk.close_key)
    kiosk.wait_until(lambda: kiosk.keyboard is None, what="the keyboard closed")
    kiosk.scroll_into_view(kiosk.screen.ids.sms)
    kiosk.tap(kiosk.screen.ids.sms)
    assert kiosk.app.flow.draft.sms_consent
    stop()
    yield "identity-sms"
    answer_privacy(kiosk, anonymous=False, confidential=False)
    _next_step(kiosk)

    assert kiosk.current == "review"
    stop()
    yield "review"

    config = env.config
    kiosk.advance_clock(config.idle_timeout_s + 0.5)
    wait_overlay(kiosk, True)
    yield "idle-warning"
    kiosk.tap(app.idle_overlay.ids.continue_button)
    wait_overlay(kiosk, False)
    assert kiosk.current == "review"

    # The store refuses the write (as a full disk would): the review says so, nothing lost.
    from sqlalchemy import text

    with env.store.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER tour_full_disk BEFORE INSERT ON reports "
                          "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))
    try:
        send(kiosk)
        assert kiosk.current == "review" and kiosk.screen.save_error
    finally:
        with env.store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER tour_full_disk"))
    stop()
    yield "review-save-failed"

    # A bug while saving: the safety net shows the apology, the draft kept.
    real_submit = env.reports.submit

    def broken_submit(draft):
        raise RuntimeError("a bug while saving (screen tour)")

    env.reports.submit = broken_submit
    try:
        send(kiosk)
        kiosk.frames(3)
    finally:
        env.reports.submit = real_submit
    assert kiosk.current == "apology"
    stop()
    yield "apology"
    kiosk.tap(kiosk.screen.ids.resume)
    assert kiosk.current == "review"

    send(kiosk)
    assert kiosk.current == "receipt"
    kiosk.wait_until(lambda: kiosk.screen.print_state == "printed", what="the receipt printed")
    stop()
    yield "receipt-printed"
    kiosk.tap(kiosk.screen.ids.done)
    assert kiosk.current == "welcome"
    _choose(kiosk, lang, large_text, high_contrast)  # the citizen's session ended: the next one chooses again

    # -- the printer cannot print ----------------------------------------------------------
    from tests.support.kiosk_ui import show_receipt_for_saved_report

    printer = env.printer
    env.printer = _blocked_printer(env)
    try:
        show_receipt_for_saved_report(kiosk, env)
        kiosk.wait_until(lambda: kiosk.screen.print_state == "failed", what="the receipt to fail")
        stop()
        yield "receipt-print-failed"
        kiosk.tap(kiosk.screen.ids.done)
        assert kiosk.current == "welcome"
        _choose(kiosk, lang, large_text, high_contrast)
        kiosk.wait_until(lambda: kiosk.screen.printer_down, what="Welcome's printer notice")
        stop()
        yield "welcome-printer-down"
    finally:
        env.printer = printer
