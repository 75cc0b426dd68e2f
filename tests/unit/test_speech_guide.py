"""What the kiosk says and when (kiosk.core.speech_guide), with the real player and voice
into a silent sink; the headset jack (devices.headset) read from a file as its source."""
from __future__ import annotations

import threading

import pytest

from devices.audio import NullSink, Player
from devices.headset import JackError, JackWatch, parse_spec, read_jack
from kiosk.core.idle import IdleMonitor, IdleState
from kiosk.core.speech_guide import (CHOICES, CHOSEN, EMPTY, NOT_CHOSEN, SPEECH_ON, TEXT_FIELD, Kind, Line,
                                     SpeechGuide)
from kiosk.kernel.i18n import msgid_for
from kiosk.kernel.spoken import spoken_tracking_id
from kiosk.kernel.tracking_id import new_tracking_id

pytestmark = pytest.mark.unit


@pytest.fixture
def player():
    made = Player(NullSink())
    made.start()
    yield made
    made.close()


def guide_for(player, language="id") -> SpeechGuide:
    return SpeechGuide(lambda: player, language=language)


def labels(guide):
    return [said.label for said in guide.said]


def test_a_screen_is_said_only_in_speech_mode_and_dengarkan_always(player):
    guide = guide_for(player)
    heading = Line("Apa yang ingin Anda sampaikan?", msgid_for("id", "Apa yang ingin Anda sampaikan?"))
    guide.screen_shown([heading], choices=3)
    assert guide.said == []
    guide.listen([heading])
    assert labels(guide) == ["What would you like to send?"]
    guide.set_mode(True)
    guide.screen_shown([heading], choices=3)
    assert labels(guide)[-3:] == [SPEECH_ON, "What would you like to send?", CHOICES]
    assert guide.said[-1].text == "Ada 3 pilihan. Tekan tombol bawah untuk mendengarnya."


def test_controls_say_their_state_and_typed_text_never_reaches_a_label(player):
    guide = guide_for(player, "en")
    guide.focused([Line("Bahasa Indonesia", kind=Kind.CHOICE, chosen=True)])
    guide.focused([Line("English", kind=Kind.CHOICE, chosen=False)])
    guide.focused([Line("Title", kind=Kind.FIELD, typed="", private=True)])
    guide.focused([Line("Title", kind=Kind.FIELD, typed="Jalan rusak dekat rumah Pak Budi", private=True)])
    assert labels(guide) == ["text", CHOSEN, "text", NOT_CHOSEN, "typed text", TEXT_FIELD, EMPTY,
                             "typed text", TEXT_FIELD, "typed text"]
    assert guide.said[-1].text == "Jalan rusak dekat rumah Pak Budi"  # said to the citizen ...
    assert all("Budi" not in said.label for said in guide.said)  # ... never a label in a log


def test_the_tracking_id_is_spelled_in_the_citizens_language(player):
    tracking_id = new_tracking_id("MT01")
    for language in ("id", "en"):
        guide = guide_for(player, language)
        guide.tracking_id(Line("Nomor laporan Anda"), tracking_id)
        assert guide.said[-1] == type(guide.said[-1])("tracking-id", spoken_tracking_id(tracking_id, language))


def test_the_session_end_silences_resets_the_volume_and_keeps_speech_only_with_a_headset(player):
    guide = guide_for(player)
    guide.set_mode(True)
    guide.volume(+1)
    guide.volume(+1)
    assert player.volume == player.volume_default + 2 * player.volume_step
    guide.end_session()
    assert player.volume == player.volume_default and not guide.mode and guide.said == []
    guide.headset_changed(True)
    assert guide.mode
    guide.headset_changed(False)
    assert guide.mode  # unplugged mid-session: the citizen goes on listening ...
    guide.end_session()
    assert not guide.mode  # ... until the session ends
    guide.headset_changed(True)
    guide.end_session()
    assert guide.mode  # still plugged: the next citizen hears it too


def test_no_player_no_speech_no_error():
    guide = SpeechGuide(lambda: None)
    guide.set_mode(True)
    guide.listen([Line("x")])
    guide.end_session()
    assert guide.said == []


def test_speech_mode_patience_makes_the_idle_time_longer():
    now = [0.0]
    idle = IdleMonitor(lambda: now[0], idle_after=60, warn_for=30)
    idle.arm()
    idle.patience = 3.0
    now[0] = 61
    assert idle.poll() is IdleState.ACTIVE
    now[0] = 181
    assert idle.poll() is IdleState.WARNING and idle.seconds_left() == 89
    now[0] = 271
    assert idle.poll() is IdleState.EXPIRED


def test_headset_from_a_file_and_plain_errors(tmp_path):
    jack = tmp_path / "jack"
    with pytest.raises(JackError, match="cannot read"):
        read_jack(str(jack))
    jack.write_text("1\n")
    assert read_jack(str(jack)) is True
    jack.write_text("maybe")
    with pytest.raises(JackError, match="not 1 or 0"):
        read_jack(str(jack))
    with pytest.raises(JackError, match="alsa:CARD:CONTROL"):
        parse_spec("alsa:0")
    assert parse_spec("alsa:0:Headphone Jack") == ("alsa", "0", "Headphone Jack")
    with pytest.raises(JackError, match="card 99"):
        read_jack("alsa:99:Headphone Jack")


def test_the_jack_watch_calls_back_on_each_change(tmp_path):
    jack = tmp_path / "jack"
    jack.write_text("0")
    changes: list[bool] = []
    changed = threading.Event()

    def on_change(plugged):
        changes.append(plugged)
        changed.set()

    watch = JackWatch(str(jack), on_change, every_s=0.01)
    watch.start()
    try:
        jack.write_text("1")
        assert changed.wait(5)
        changed.clear()
        jack.write_text("0")
        assert changed.wait(5)
    finally:
        watch.stop()
    assert changes == [True, False]  # not plugged at the start: no call for it


def test_a_spoken_complaint_is_cued_and_counted_down_only_in_voice_guidance(player):
    from kiosk.core.speech_guide import RECORDING_LEFT, SPEAK_NOW

    guide = guide_for(player)
    guide.recording_started()
    guide.countdown(30)
    assert guide.said == []
    guide.set_mode(True, announce=False)
    guide.recording_started()
    guide.countdown(10)
    assert labels(guide) == [SPEAK_NOW, RECORDING_LEFT]
    assert [s.text for s in guide.said] == ["Bicara sekarang.", "Sisa 10 detik"]
