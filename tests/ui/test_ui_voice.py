"""A complaint told instead of typed, on the real Kivy window with real touches: a WAV file
of Indonesian speech (espeak-ng) is the microphone; the Describe step records it with a
countdown and a level, plays it back, and the citizen files the report without typing a
word. A microphone that fails says so plainly and leaves the typing path as it was."""
from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import text

from kiosk.core import reference
from kiosk.core.domain import VoiceNote
from kiosk.kernel.durations import voice_line
from kiosk.kernel.i18n import gettext_for
from tests.support.kiosk_ui import T, answer_privacy, fill_category, go_next, start_report, type_into
from tests.support.spoken import COMPLAINT, speech_wav

pytestmark = pytest.mark.ui

LIMIT_S = 30


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    return speech_wav(tmp_path_factory.mktemp("mic") / "complaint.wav")


@pytest.fixture
def microphone(request, wav):
    """What ``microphone_source`` says: the WAV file, unless a test names another source."""
    return {"source": request.param if hasattr(request, "param") else str(wav)}


@pytest.fixture
def config_file(tmp_path, microphone):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\n'
                    f'microphone_source = "{microphone["source"]}"\nmicrophone_limit_s = {LIMIT_S}\n', encoding="utf-8")
    return path


def to_describe(kiosk, lang="id"):
    start_report(kiosk, lang, screenshot=False)
    kiosk.tap(kiosk.screen.ids.choices.children[-1])
    fill_category(kiosk)
    assert kiosk.current == "describe"
    return kiosk.screen, kiosk.screen.ids


def shown_seconds(label: str) -> int:
    """The seconds a "Merekam: 0:03" label shows (-1: none yet). Waiting for "at least N"
    rather than an exact label: on a loaded machine a frame may come more than a second
    after the last, and the label skips a value (a CI run waited on "0:03" for ever)."""
    found = re.search(r"(\d+):(\d\d)$", label)
    return int(found.group(1)) * 60 + int(found.group(2)) if found else -1


def journal(env) -> list[dict]:
    path = env.player.sink.journal
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_citizen_tells_the_complaint_plays_it_back_and_files_it_without_typing(kiosk, env, caplog):
    """GIVEN a kiosk whose microphone is a WAV file of spoken Indonesian WHEN the citizen taps
    "Rekam suara", speaks (the time runs, the countdown falls, the level moves), taps
    "Berhenti", "Putar", then goes on without typing THEN the review says "Rekaman suara" with
    its length under the category's name, and the report is saved with the recording sealed
    beside it and waiting to be uploaded after the report. No recording, no text in the logs."""
    caplog.set_level(logging.DEBUG)
    screen, voice = to_describe(kiosk)
    assert T(kiosk, "Record your voice") == "Rekam suara" and "Rekam suara" in kiosk.all_text()
    kiosk.tap(voice.record)
    assert screen.mic_state == "recording" and "Berhenti" in kiosk.all_text()
    levels = []
    kiosk.wait_until(lambda: levels.append(screen.mic_level) or shown_seconds(screen.mic_elapsed) >= 3,
                     max_frames=100_000, what=lambda: screen.mic_elapsed)
    shown = shown_seconds(screen.mic_elapsed)
    assert screen.mic_elapsed == f"Merekam: 0:{shown:02d}" and screen.mic_elapsed in kiosk.all_text()
    assert screen.mic_left == f"Sisa 0:{LIMIT_S - shown:02d}" and screen.mic_left in kiosk.all_text()
    assert max(levels) > 0.3  # the bar moved with the voice
    kiosk.screenshot("04-describe-recording")
    kiosk.tap(voice.stop)
    kiosk.wait_until(lambda: screen.mic_state == "done", max_frames=100_000, what="the recording to end")
    note = kiosk.app.flow.draft.voice
    assert isinstance(note, VoiceNote) and shown <= note.duration_s < LIMIT_S
    said = voice_line(note.duration_s, gettext_for("id"))
    assert "Pengaduan Anda sudah terekam" in kiosk.all_text() and "Rekam suara" not in kiosk.all_text()
    kiosk.screenshot("04-describe-recorded")

    kiosk.tap(voice.play)
    assert env.player.wait_idle(30), "the playback did not end"
    [played] = [j for j in journal(env) if j["label"] == "recorded complaint"]
    # All of it but the second of silence before the voice (the player skips leading silence).
    assert note.duration_s - 1.05 <= played["seconds"] <= note.duration_s and not played["cut"]

    go_next(kiosk)  # nothing typed
    assert kiosk.current == "when_where", kiosk.all_text()
    kiosk.tap(kiosk.screen.ids.kecamatan.children[-1])
    go_next(kiosk)
    answer_privacy(kiosk, anonymous=False, confidential=False)
    go_next(kiosk)
    assert kiosk.current == "review"
    shown = kiosk.all_text()
    assert said.startswith("Rekaman suara, ") and said in shown
    kiosk.screenshot("07-review-recorded")
    go_next(kiosk)  # Send
    assert kiosk.current == "receipt"

    with env.store.engine.connect() as conn:
        tid, audio, sha = conn.execute(text("SELECT tracking_id, audio, sha256 FROM voice_notes")).one()
        kinds = sorted(conn.execute(text("SELECT kind FROM outbox")).scalars())
    assert kinds == ["report", "voice"] and sha == note.sha256 and env.store.sealer.open_bytes(audio) == note.ogg
    kept = env.reports.load_draft(tid)
    category = reference.categories(env.store, "id")[0].label  # the one chosen: a title nobody typed
    assert (kept.title, kept.description) == (category, "")
    assert not [r for r in caplog.records if COMPLAINT[:20] in r.getMessage() or note.sha256 in r.getMessage()]


def test_recording_again_and_deleting_bring_the_typing_path_back(kiosk, env):
    """"Rekam ulang" replaces the recording; "Hapus" removes it, and Next asks for the typed
    description again."""
    screen, voice = to_describe(kiosk)
    kiosk.tap(voice.record)
    kiosk.wait_until(lambda: shown_seconds(screen.mic_elapsed) >= 1, max_frames=100_000, what="a second of speech")
    kiosk.tap(voice.stop)
    kiosk.wait_until(lambda: screen.mic_state == "done", max_frames=100_000, what="the recording to end")
    first = kiosk.app.flow.draft.voice
    kiosk.tap(voice.again)
    assert screen.mic_state == "recording" and kiosk.app.flow.draft.voice is None
    kiosk.wait_until(lambda: shown_seconds(screen.mic_elapsed) >= 2, max_frames=100_000, what="two seconds")
    kiosk.tap(voice.stop)
    kiosk.wait_until(lambda: screen.mic_state == "done", max_frames=100_000, what="the recording to end")
    assert kiosk.app.flow.draft.voice.sha256 != first.sha256
    kiosk.tap(voice.delete)
    assert kiosk.app.flow.draft.voice is None and "Rekam suara" in kiosk.all_text()
    go_next(kiosk)
    assert kiosk.current == "describe"
    assert T(kiosk, "Please tell us what happened.") in kiosk.all_text()


@pytest.mark.parametrize("microphone", ["/nonexistent/mikrofon.wav"], indirect=True)
def test_a_microphone_that_fails_says_so_and_the_citizen_types_instead(kiosk, env):
    screen, voice = to_describe(kiosk)
    kiosk.tap(voice.record)
    kiosk.wait_until(lambda: screen.mic_state == "idle", max_frames=100_000, what="the failure")
    assert "Mikrofon tidak tersedia. Silakan ketik laporan Anda." in kiosk.all_text()
    assert kiosk.app.flow.draft.voice is None
    type_into(kiosk, screen.ids.title, "antrean ktp lama")
    type_into(kiosk, screen.ids.description, "saya menunggu lima jam di loket")
    go_next(kiosk)
    assert kiosk.current == "when_where"


@pytest.mark.parametrize("microphone", [""], indirect=True)
def test_without_a_microphone_there_is_no_record_button(kiosk, env):
    screen, voice = to_describe(kiosk)
    assert not screen.mic_available
    assert "Rekam suara" not in kiosk.all_text()
    assert screen.ids.voice.height == 0 and voice.record.get_root_window() is None  # no room, nothing to tap


def test_in_voice_guidance_the_recording_is_cued_and_its_time_left_spoken(kiosk, env):
    """GIVEN voice guidance on WHEN the citizen taps "Rekam suara" THEN the kiosk says only
    "Bicara sekarang" and, the limit being 30 s, "Sisa 30 detik"; the kiosk's voice is not
    played while the microphone listens longer than those words."""
    from kiosk.core.speech_guide import RECORDING_LEFT, SPEAK_NOW

    screen, voice = to_describe(kiosk)
    kiosk.app.set_speech_mode(True)
    kiosk.tap(voice.record)
    assert screen.mic_state == "recording"
    kiosk.wait_until(lambda: RECORDING_LEFT in [s.label for s in kiosk.app.speech.said], what="the time left said")
    said = [s.label for s in kiosk.app.speech.said]
    assert said[-2:] == [SPEAK_NOW, RECORDING_LEFT]
    assert kiosk.app.speech.said[-1].text == "Sisa 30 detik"
    kiosk.tap(voice.stop)
    kiosk.wait_until(lambda: screen.mic_state != "recording", max_frames=2_000, what=lambda: f"the recording ended: {screen.mic_state} {screen._recorder.snapshot()}")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_recording_in_large_text_and_high_contrast(kiosk, env, lang):
    """GIVEN a citizen who turned on "Huruf besar" and "Kontras tinggi" WHEN they record a
    complaint and it is kept THEN, at 1280x800 and 1366x768, the recording's time, countdown,
    Stop, and then Play back, Record again and Delete with their pictograms are whole and
    reachable, large, 7:1 against their background (as every screen of the tour)."""
    from screens.textsize import LARGE_TEXT_SCALE, MIN_CAP_MM
    from tests.support.text_fit import KIOSK_SIZES, window_size
    from tests.ui.test_ui_contrast import measure
    from tests.ui.test_ui_large_text import HIGH_CONTRAST_TEXT_MIN, frame_of_the_screen, hidden_or_clipped
    from tests.ui.test_ui_legibility import too_small

    app = kiosk.app
    kiosk.tap(app.root.bar.ids.large_text)
    kiosk.tap(app.root.bar.ids.high_contrast)
    screen, voice = to_describe(kiosk, lang)
    assert app.large_text and app.high_contrast
    problems = []

    def check(state):
        for size in KIOSK_SIZES:
            with window_size(kiosk, size):
                where = f"voice-{state}-{size[0]}x{size[1]}"
                problems.extend(hidden_or_clipped(kiosk, where))
                problems.extend(too_small(kiosk, where, MIN_CAP_MM * LARGE_TEXT_SCALE, skip=frame_of_the_screen(kiosk)))
                problems.extend(measure(kiosk, f"large-contrast-{where}", HIGH_CONTRAST_TEXT_MIN)[0])

    kiosk.scroll_into_view(voice.record)
    kiosk.tap(voice.record)
    kiosk.wait_until(lambda: shown_seconds(screen.mic_elapsed) >= 1, max_frames=100_000, what="a second of speech")
    check("recording")
    kiosk.scroll_into_view(voice.stop)
    kiosk.tap(voice.stop)
    kiosk.wait_until(lambda: screen.mic_state == "done", max_frames=100_000, what="the recording to end")
    check("done")
    assert not problems, "\n".join(problems)
