"""The kiosk's voice with real parts: espeak-ng in the process, real WAV files, real aplay.

What a citizen would notice is read from the sinks: the WAV file of what was played and its
log (label, start, end, seconds, volume, whether it was cut), or the audio ALSA received.
"""
from __future__ import annotations

import json
import string
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from devices.audio import AplaySink, FileSink, Player
from devices.voice import SAMPLE_RATE, ClipLibrary, Synthesizer, engine_status
from kiosk.kernel.i18n import LANGUAGES, gettext_for
from kiosk.kernel.spoken import clip_slug, speech_text, spoken_tracking_id
from tests.support.speech import kiosk_msgids

TID = "MT0114D2PF2DBX"


def journal(sink: FileSink) -> list[dict]:
    if not sink.journal.exists():
        return []
    return [json.loads(line) for line in sink.journal.read_text(encoding="utf-8").splitlines()]


def wav_samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64)


def segments(sink: FileSink) -> list[np.ndarray]:
    """The WAV cut into what each journal line played (file sink without pacing)."""
    samples, out, at = wav_samples(sink.path), [], 0
    for line in journal(sink):
        n = int(round(line["seconds"] * SAMPLE_RATE))
        out.append(samples[at:at + n])
        at += n
    return out


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples ** 2)))


def tone_wav(path: Path, *, hz: float = 440.0, seconds: float = 0.5, rate: int = 44100, channels: int = 2) -> None:
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.repeat(mono, channels).tobytes())


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[np.argmax(spectrum)])


@pytest.fixture
def player_factory(tmp_path):
    players = []

    def make(*, realtime=True, clips=None, synth=None, sink=None, **kw) -> tuple[Player, FileSink]:
        sink = sink or FileSink(tmp_path / f"out{len(players)}.wav", realtime=realtime)
        player = Player(sink, synth or Synthesizer(), ClipLibrary(clips), **kw)
        player.start()
        players.append(player)
        return player, sink

    yield make
    for player in players:
        player.close()


# -- every message the kiosk shows can be spoken --------------------------------------------


def _filled(text: str) -> str:
    """A message with its {placeholders} filled as a screen would (a number)."""
    fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return text.format(**{name: "3" for name in fields})


def test_every_kiosk_message_is_spoken_in_both_languages():
    """GIVEN every msgid the kiosk's code uses, in both catalogs WHEN espeak-ng speaks each
    THEN each gives sound (not silence), and no more than a slow reader would take (this
    found phone numbers read as thousands: "0812 3456 7890" took 10 s; now digit by digit).
    libespeak-ng keeps global state, so it runs in one thread; about 2 s for 2 x 218."""
    msgids = kiosk_msgids()
    assert len(msgids) > 150
    synth = Synthesizer()
    problems, total_s, started = [], 0.0, time.monotonic()
    for language in LANGUAGES:
        _ = gettext_for(language)
        for msgid in msgids:
            text = speech_text(_filled(_(msgid)), language)
            pcm = np.frombuffer(synth.to_pcm(text, language), "<i2").astype(np.float64)
            seconds = len(pcm) / SAMPLE_RATE
            total_s += seconds
            words = max(1, len(text.split()))  # a spelled digit or letter counts as a word
            if seconds < 0.2 or rms(pcm) < 300:
                problems.append(f"{language}: {msgid!r} gives no sound ({seconds:.2f} s)")
            elif seconds > 2.0 + words * 0.8:  # 150 words per minute is 0.4 s a word
                problems.append(f"{language}: {msgid!r} takes {seconds:.1f} s for {words} words")
    assert not problems, "\n".join(problems)
    assert time.monotonic() - started < 30, "speaking the catalogs got slow"
    assert total_s > 60 * len(LANGUAGES)  # hundreds of messages: minutes of speech


def test_engine_reports_its_voices_and_a_missing_engine_plainly(tmp_path):
    status = engine_status()
    assert status.ok and status.voices == ("id", "en"), status
    broken = engine_status(Synthesizer(library=str(tmp_path / "libespeak-ng.so.1"), data_dir=str(tmp_path)))
    assert not broken.ok and "data folder" in broken.detail
    (tmp_path / "phontab").write_bytes(b"")
    broken = engine_status(Synthesizer(library=str(tmp_path / "libespeak-ng.so.1"), data_dir=str(tmp_path)))
    assert not broken.ok and broken.detail.startswith("the espeak-ng library cannot be loaded")


def test_tracking_id_pauses_between_groups():
    """The citizen hears the three groups apart: the two longest silences inside the spoken
    ID are the two group breaks, each at least twice the pause between symbols."""
    for language in LANGUAGES:
        pcm = np.abs(np.frombuffer(Synthesizer().to_pcm(spoken_tracking_id(TID, language), language), "<i2"))
        window = SAMPLE_RATE // 100  # 10 ms
        loud = pcm[:len(pcm) // window * window].reshape(-1, window).max(axis=1) >= 300
        first, last = np.argmax(loud), len(loud) - np.argmax(loud[::-1])
        runs, length = [], 0
        for is_loud in loud[first:last]:
            if is_loud:
                if length >= 3:
                    runs.append(length * 10)
                length = 0
            else:
                length += 1
        runs.sort()
        assert len(runs) >= 12, (language, runs)
        assert runs[-2] >= 2 * runs[-3], (language, runs)


# -- the player ----------------------------------------------------------------------------


def test_speak_returns_before_the_first_sample_and_says_things_in_order(player_factory):
    player, sink = player_factory()
    player.speak("Satu", "id", label="first")
    returned = time.monotonic()
    player.speak("Dua", "id", label="second")
    player.speak("Three", "en", label="third")
    queued = time.monotonic()
    assert sink.sounding.wait(5)
    assert player.wait_idle(10)
    lines = journal(sink)
    assert [line["label"] for line in lines] == ["first", "second", "third"]
    assert returned < lines[0]["mono"] and queued - returned < 0.005
    assert all(not line["cut"] and 0.3 < line["seconds"] < 2 for line in lines)
    assert lines[1]["mono"] >= lines[0]["end"] - 0.01  # one after the other, never mixed
    assert player.state.ok


def test_stop_cuts_speech_within_a_fifth_of_a_second_and_drops_the_queue(player_factory):
    player, sink = player_factory()
    player.speak(spoken_tracking_id(TID, "id"), "id", label="tracking id")
    player.speak("Buat Laporan", "id", label="queued")
    assert sink.sounding.wait(5)
    asked = time.monotonic()
    player.stop()
    assert time.monotonic() - asked < 0.01  # the caller is not held
    assert player.wait_idle(2)
    lines = journal(sink)
    assert [line["label"] for line in lines] == ["tracking id"]
    assert lines[0]["cut"] and lines[0]["end"] - asked < 0.2
    assert lines[0]["seconds"] < 1.0  # of about 7 s
    player.speak("Buat Laporan", "id", label="after")  # the player goes on
    assert player.wait_idle(5)
    assert journal(sink)[-1]["label"] == "after" and not journal(sink)[-1]["cut"]


def test_volume_steps_and_reset_to_the_default(player_factory):
    """GIVEN the default volume (70) WHEN the citizen presses up twice THEN the same words
    are louder by 90/70; WHEN the session ends (reset) THEN they are as loud as at first."""
    player, sink = player_factory(realtime=False, volume_default=70, volume_step=10)
    player.speak("Buat Laporan", "id", label="default")
    assert player.wait_idle(5)
    assert player.volume_up() == 80 and player.volume_up() == 90
    player.speak("Buat Laporan", "id", label="louder")
    assert player.wait_idle(5)
    for _ in range(12):
        player.volume_down()
    assert player.volume == 10
    player.reset()
    assert player.volume == 70
    player.speak("Buat Laporan", "id", label="next session")
    assert player.wait_idle(5)
    default, louder, after = (rms(s) for s in segments(sink))
    assert [line["volume"] for line in journal(sink)] == [70, 90, 70]
    assert louder / default == pytest.approx(90 / 70, rel=0.02)
    assert after == pytest.approx(default, rel=0.01)


def test_repeat_says_the_last_utterance_again(player_factory):
    player, sink = player_factory(realtime=False)
    player.speak("Cek Status", "id", message_id="Check status")
    player.speak(spoken_tracking_id(TID, "id"), "id", label="tracking id")
    assert player.wait_idle(10)
    player.repeat()
    assert player.wait_idle(10)
    lines = journal(sink)
    assert [line["label"] for line in lines] == ["Check status", "tracking id", "tracking id"]
    assert lines[2]["seconds"] == pytest.approx(lines[1]["seconds"], abs=0.05) and lines[1]["seconds"] > 4


def test_a_recorded_clip_takes_precedence_and_a_damaged_one_falls_back(player_factory, tmp_path, caplog):
    clips = tmp_path / "clips"
    tone_wav(clips / "id" / f"{clip_slug('Create a report')}.wav", hz=440, seconds=0.5, rate=44100, channels=2)
    (clips / "en").mkdir()
    (clips / "en" / f"{clip_slug('Check status')}.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    player, sink = player_factory(realtime=False, clips=clips)
    player.speak("Buat Laporan", "id", message_id="Create a report")
    player.speak("Create a report", "en", message_id="Create a report")  # no English clip
    player.speak("Check status", "en", message_id="Check status")  # damaged clip
    assert player.wait_idle(10)
    clip, synthetic, fallback = segments(sink)
    assert len(clip) / SAMPLE_RATE == pytest.approx(0.5, abs=0.01)
    assert dominant_hz(clip) == pytest.approx(440, abs=3)
    assert dominant_hz(synthetic) != pytest.approx(440, abs=3) and len(synthetic) != len(clip)
    assert len(fallback) / SAMPLE_RATE > 0.4 and rms(fallback) > 300
    assert "damaged clip" in caplog.text and "check-status.wav" in caplog.text
    good, problems = ClipLibrary(clips).check()
    assert good == 1 and problems and problems[0].startswith("en/check-status.wav")


def test_a_missing_engine_is_a_state_and_clips_still_play(player_factory, tmp_path):
    clips = tmp_path / "clips"
    tone_wav(clips / "id" / "create-a-report.wav", rate=SAMPLE_RATE, channels=1)
    broken = Synthesizer(library=str(tmp_path / "nothing.so"), data_dir=str(clips))
    player, sink = player_factory(realtime=False, clips=clips, synth=broken)
    player.speak("Cek Status", "id", message_id="Check status")
    assert player.wait_idle(5)
    assert not player.state.ok and "phoneme table" in player.state.detail
    player.speak("Buat Laporan", "id", message_id="Create a report")
    assert player.wait_idle(5)
    assert [line["label"] for line in journal(sink)][-1] == "Create a report"
    assert segments(sink)[-1].size == SAMPLE_RATE // 2


# -- the real sound output: aplay ----------------------------------------------------------


@pytest.fixture
def alsa_file_device(tmp_path, monkeypatch):
    """ALSA's own ``file`` plugin as the default device: aplay and libasound run for real
    and what reaches the device is written to a WAV file (this machine has no sound card)."""
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "alsa.wav"
    (home / ".asoundrc").write_text(f'pcm.!default {{ type file; slave.pcm "null"; file "{out}"; format "wav" }}\n')
    monkeypatch.setenv("HOME", str(home))
    return out


def test_aplay_plays_what_is_said(player_factory, alsa_file_device):
    sink = AplaySink("default")
    assert sink.status().ok
    player, _ = player_factory(sink=sink)
    player.speak("Buat Laporan", "id", message_id="Create a report")
    assert player.wait_idle(10)
    assert player.state.ok, player.state
    with wave.open(str(alsa_file_device), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (SAMPLE_RATE, 1)
        heard = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64)
    expected = np.frombuffer(Synthesizer().to_pcm("Buat Laporan", "id"), "<i2")
    # ALSA pads the last period with silence: the words, then at most 50 ms of nothing
    assert len(expected) <= len(heard) <= len(expected) + SAMPLE_RATE // 20
    assert not heard[len(expected):].any()
    assert rms(heard[:len(expected)]) == pytest.approx(0.7 * rms(expected.astype(np.float64)), rel=0.02)


def test_speech_cut_while_aplay_starts_never_silences_the_kiosk(player_factory, alsa_file_device):
    """GIVEN aplay as the output WHEN speech is stopped again and again right after it was
    asked for (keys pressed during "Dengarkan": the stop lands while aplay is starting)
    THEN the player comes back idle each time and the next words are still played (a cut
    that found no aplay to kill once left the audio thread waiting for ever)."""
    sink = AplaySink("default")
    player, _ = player_factory(sink=sink)
    for _ in range(20):
        player.speak("Buat Laporan", "id")
        player.stop()
        assert player.wait_idle(5), "the audio thread hung on a cut aplay"
    player.speak("Cek Status", "id")
    assert player.wait_idle(10) and player.state.ok, player.state
    with wave.open(str(alsa_file_device), "rb") as wav:
        assert wav.getnframes() >= len(Synthesizer().to_pcm("Cek Status", "id")) // 4  # bytes: 2 a frame


def test_a_cut_that_comes_before_aplay_has_started_still_ends_it(alsa_file_device):
    """GIVEN the real aplay sink WHEN the order the player's threads can produce happens:
    the stop's cut (nothing to kill yet), then aplay started for the cut utterance, then
    the audio thread finishing the cut THEN that finish returns within a second and aplay
    is gone (it used to wait for ever on an aplay nobody closed)."""
    sink = AplaySink("default")
    sink.abort()
    sink.begin("Buat Laporan", 100)
    proc = sink._proc
    finished = threading.Event()
    threading.Thread(target=lambda: (sink.aborted(), finished.set()), daemon=True).start()
    try:
        assert finished.wait(1), "aborted() waits for an aplay that nothing closes"
        assert proc.poll() is not None
    finally:
        proc.kill()


def test_no_sound_card_or_no_aplay_is_a_plain_state(player_factory, tmp_path, monkeypatch):
    sink = AplaySink("hw:9")
    status = sink.status()
    assert not status.ok and status.detail.startswith("ALSA device 'hw:9': ")
    player, _ = player_factory(sink=sink)
    player.speak("Buat Laporan", "id")  # no exception reaches the caller
    assert player.wait_idle(5)
    assert not player.state.ok and "ALSA device 'hw:9'" in player.state.detail

    monkeypatch.setenv("PATH", str(tmp_path))  # no aplay anywhere
    assert AplaySink().status() == AplaySink().status()
    assert AplaySink().status().detail == "aplay is not installed (Debian package alsa-utils)"
    player2, _ = player_factory(sink=AplaySink())
    player2.speak("Buat Laporan", "id")
    assert player2.wait_idle(5)
    assert not player2.state.ok and "install alsa-utils" in player2.state.detail


# -- what the technician sees --------------------------------------------------------------


def test_doctor_lists_the_audio_output_the_voices_and_damaged_clips(tmp_path, alsa_file_device):
    from kiosk.runtime.config import load_config
    from kiosk.runtime.technician import checks

    clips = tmp_path / "clips"
    tone_wav(clips / "id" / "create-a-report.wav")
    (clips / "en").mkdir()
    (clips / "en" / "check-status.wav").write_bytes(b"not a wav")
    base = {"data_dir": str(tmp_path / "data"), "speech_clips_dir": str(clips)}
    rows = {name: (ok, detail, fix) for name, ok, detail, fix in
            checks(load_config(environ={}, overrides={**base, "audio_output": "aplay"}))}
    assert rows["audio"][0] and rows["audio"][1].startswith("ALSA device 'default' through aplay; outputs: ")
    ok, detail, fix = rows["voice"]
    assert ok and detail.startswith("espeak-ng 1.52.0, voices: id, en; 1 recorded clip(s)")
    assert "1 damaged (espeak-ng speaks instead): en/check-status.wav" in detail and fix

    rows = {name: (ok, detail, fix) for name, ok, detail, fix in
            checks(load_config(environ={}, overrides={**base, "audio_output": "aplay", "audio_device": "hw:9"}))}
    assert not rows["audio"][0] and "ALSA device 'hw:9'" in rows["audio"][1] and "alsa-utils" in rows["audio"][2]
