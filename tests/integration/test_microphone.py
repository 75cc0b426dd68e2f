"""The microphone with real parts: speech made by espeak-ng, real WAV files, the real
``arecord`` reading that speech through ALSA's own file plugin, libsndfile's Opus encoder
and decoder; a stand-in ``arecord`` only for the failures of hardware we do not have."""
from __future__ import annotations

import io
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from devices.microphone import (
    PROBLEM_MESSAGES, SAMPLE_RATE, MicProblem, MicSnapshot, MicState, Recorder, decode_ogg_opus, level_dbfs,
)
from kiosk.kernel.i18n import LANGUAGES, gettext_for
from tests.support.alsa_file_mic import DEVICE, alsa_home
from tests.support.fake_arecord import fake_arecord

COMPLAINT = ("Jalan di depan kantor kecamatan rusak parah sejak bulan lalu. Banyak motor jatuh ketika hujan. "
             "Saya mohon agar segera diperbaiki oleh dinas pekerjaan umum. ")


def speech(path: Path, text: str) -> np.ndarray:
    """Indonesian speech by espeak-ng, as 16 kHz 16-bit samples."""
    wav = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "id", "-w", str(wav), text], check=True, timeout=60)
    data, rate = soundfile.read(wav, dtype="float32")
    at = np.arange(0, len(data) / rate, 1 / SAMPLE_RATE)
    return (np.interp(at, np.arange(len(data)) / rate, data) * 32767).astype("<i2")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A WAV file: one second of silence, then a spoken complaint (about 9 s)."""
    folder = tmp_path_factory.mktemp("mic")
    samples = np.concatenate([np.zeros(SAMPLE_RATE, dtype="<i2"), speech(folder / "complaint", COMPLAINT)])
    path = folder / "complaint.wav"
    soundfile.write(path, samples, SAMPLE_RATE, subtype="PCM_16")
    return path, samples


class Watch:
    """Every snapshot the recorder reported, and a wait for one that matches."""

    def __init__(self):
        self.seen: list[MicSnapshot] = []
        self._cond = threading.Condition()

    def __call__(self, snap: MicSnapshot) -> None:
        with self._cond:
            self.seen.append(snap)
            self._cond.notify_all()

    def until(self, predicate, timeout: float = 30.0) -> MicSnapshot:
        with self._cond:
            assert self._cond.wait_for(lambda: any(predicate(s) for s in self.seen), timeout), self.seen[-3:]
            return next(s for s in self.seen if predicate(s))


def envelope(samples: np.ndarray) -> np.ndarray:
    """Loudness per 20 ms: what the ear follows, whatever the codec did to the waveform."""
    frames = len(samples) // 320
    return np.sqrt(np.mean(np.square(samples[:frames * 320].astype(np.float64)).reshape(frames, 320), axis=1))


def finished(recorder: Recorder) -> MicSnapshot:
    assert recorder.wait(30), "the recorder did not finish"
    return recorder.snapshot()


def test_a_spoken_complaint_is_recorded_until_stopped_and_plays_back_as_said(spoken):
    """GIVEN a WAV file as the microphone WHEN the citizen stops after 4 s THEN the recording
    is those 4 s, sample for sample, and its Ogg Opus decodes back to 4 s that sound the same."""
    path, samples = spoken
    watch = Watch()
    recorder = Recorder(str(path), speed=0, on_change=watch)

    def stop_at_four(snap: MicSnapshot) -> None:
        watch(snap)
        if snap.elapsed_s >= 4.0:
            recorder.stop()

    recorder.on_change = stop_at_four
    assert recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.DONE and snap.problem is None and not snap.limit_reached
    rec = recorder.recording
    assert rec.duration_s == pytest.approx(4.0, abs=0.1)
    assert rec.pcm == samples[:len(rec.pcm) // 2].tobytes()
    decoded, rate = decode_ogg_opus(rec.ogg_opus)
    assert rate == SAMPLE_RATE and len(decoded) / rate == pytest.approx(rec.duration_s, abs=0.05)
    assert np.corrcoef(envelope(decoded), envelope(np.frombuffer(rec.pcm, "<i2")))[0, 1] > 0.95
    played, played_rate = soundfile.read(io.BytesIO(rec.wav_bytes()), dtype="int16")
    assert played_rate == SAMPLE_RATE and played.tobytes() == rec.pcm
    assert len(rec.sha256) == 64 and rec.content_type == "audio/ogg; codecs=opus"


def test_elapsed_and_level_while_recording(spoken):
    """The meter is empty over the first second's silence and moves while the citizen
    speaks; the seconds count up by 100 ms and the countdown down to the limit."""
    path, _ = spoken
    watch = Watch()
    recorder = Recorder(str(path), limit_s=5.0, speed=0, on_change=watch)
    recorder.start()
    finished(recorder)
    running = [s for s in watch.seen if s.state is MicState.RECORDING and s.elapsed_s > 0]
    assert [round(s.elapsed_s, 1) for s in running] == [round(0.1 * i, 1) for i in range(1, 51)]
    assert [round(s.remaining_s, 1) for s in running][:3] == [4.9, 4.8, 4.7]
    silence = [s.level for s in running if s.elapsed_s <= 1.0]
    voice = [s.level for s in running if 1.5 <= s.elapsed_s]
    assert max(silence) == 0.0
    assert max(voice) > 0.5 and np.mean(voice) > 0.3


def test_the_state_is_readable_at_any_time_while_the_device_delivers_in_real_time(spoken):
    """At the pace of a real microphone the caller reads state, seconds and level from its
    own thread while the recorder waits for sound; stop() returns at once."""
    path, _ = spoken
    watch = Watch()
    recorder = Recorder(str(path), speed=1.0, on_change=watch)
    recorder.start()
    watch.until(lambda s: s.elapsed_s >= 1.5)
    snap = recorder.snapshot()
    assert snap.state is MicState.RECORDING and 1.5 <= snap.elapsed_s < 10 and snap.remaining_s == 180 - snap.elapsed_s
    recorder.stop()
    done = finished(recorder)
    assert done.state is MicState.DONE and recorder.recording.duration_s == pytest.approx(snap.elapsed_s, abs=1.0)


def test_three_minutes_stop_by_themselves_and_stay_small(tmp_path):
    """GIVEN a citizen who talks for longer than 3 minutes WHEN nobody taps stop THEN the
    recording ends at exactly 180 s, and its Ogg Opus is under 600 kB (20 kbit/s: about
    150 kB a minute, against 1.9 MB a minute of the PCM) and decodes to 180 s."""
    long_speech = speech(tmp_path / "long", COMPLAINT * 22)
    assert len(long_speech) > 185 * SAMPLE_RATE
    path = tmp_path / "long.wav"
    soundfile.write(path, long_speech, SAMPLE_RATE, subtype="PCM_16")
    recorder = Recorder(str(path), speed=0)
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.DONE and snap.limit_reached and snap.elapsed_s == 180.0 and snap.remaining_s == 0
    rec = recorder.recording
    assert rec.duration_s == 180.0 and len(rec.pcm) == 180 * SAMPLE_RATE * 2
    assert 300_000 < len(rec.ogg_opus) < 600_000, len(rec.ogg_opus)
    decoded, rate = decode_ogg_opus(rec.ogg_opus)
    assert len(decoded) / rate == pytest.approx(180.0, abs=0.05)
    assert np.corrcoef(envelope(decoded), envelope(long_speech[:len(decoded)]))[0, 1] > 0.95


def test_a_short_limit_from_config(spoken):
    path, _ = spoken
    recorder = Recorder(str(path), limit_s=2.5, speed=0)
    recorder.start()
    snap = finished(recorder)
    assert snap.limit_reached and recorder.recording.duration_s == 2.5


def test_real_arecord_reads_the_speech_through_alsa(spoken, tmp_path, monkeypatch):
    """The real arecord, with a capture device that ALSA's file plugin feeds from the
    spoken complaint: the kiosk records exactly what the device delivered."""
    _, samples = spoken
    home = alsa_home(tmp_path, samples)
    monkeypatch.setenv("HOME", str(home))
    recorder = Recorder(DEVICE, limit_s=6.0)
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.DONE and snap.limit_reached, snap
    assert recorder.recording.pcm == samples[:6 * SAMPLE_RATE].tobytes()
    assert level_dbfs(samples[SAMPLE_RATE:6 * SAMPLE_RATE]) > -30


@pytest.mark.parametrize("source", ["nosuchmic", "plughw:7,0"])
def test_a_missing_device_is_a_plain_message(source):
    """The real arecord asked for a card this machine does not have."""
    recorder = Recorder(source)
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.FAILED and snap.problem is MicProblem.NO_DEVICE and recorder.recording is None
    assert gettext_for("id")(snap.message) == "Mikrofon tidak tersedia. Silakan ketik laporan Anda."


@pytest.mark.parametrize("source,problem", [
    ("", MicProblem.NOT_CONFIGURED), ("/no/such/folder/voice.wav", MicProblem.NO_DEVICE)])
def test_no_microphone_configured_or_a_missing_file(source, problem):
    recorder = Recorder(source)
    recorder.start()
    assert finished(recorder).problem is problem


def test_arecord_not_installed():
    recorder = Recorder("default", arecord="/nonexistent/arecord")
    recorder.start()
    assert finished(recorder).problem is MicProblem.NO_DEVICE


@pytest.mark.parametrize("mode,problem", [("busy", MicProblem.BUSY), ("permission", MicProblem.PERMISSION)])
def test_a_busy_or_forbidden_device(tmp_path, mode, problem):
    recorder = Recorder("plughw:1,0", arecord=fake_arecord(tmp_path, mode))
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.FAILED and snap.problem is problem


def test_the_microphone_pulled_out_mid_recording(tmp_path):
    """GIVEN a USB microphone that delivers 1.5 s and is then pulled out WHEN recording THEN
    the recorder fails as VANISHED after those 1.5 s and keeps nothing half-made."""
    watch = Watch()
    recorder = Recorder("plughw:1,0", arecord=fake_arecord(tmp_path, "vanish", 1.5), on_change=watch)
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.FAILED and snap.problem is MicProblem.VANISHED
    assert recorder.recording is None
    assert max(s.elapsed_s for s in watch.seen) == pytest.approx(1.5, abs=0.1)
    assert max(s.level for s in watch.seen) > 0.5
    assert gettext_for("en")(snap.message).startswith("The recording stopped")


def test_a_device_at_another_rate_is_refused_not_recorded_too_fast(tmp_path):
    """A hw: device that records only at 48 kHz: arecord warns and delivers 48 kHz samples;
    recorded as 16 kHz they would play three times too slow. The technician is told."""
    recorder = Recorder("hw:1,0", arecord=fake_arecord(tmp_path, "rate48k"))
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.FAILED and snap.problem is MicProblem.BROKEN and recorder.recording is None


def test_a_device_that_delivers_nothing(tmp_path):
    recorder = Recorder("plughw:1,0", arecord=fake_arecord(tmp_path, "hang"))
    recorder.start()
    snap = finished(recorder)
    assert snap.state is MicState.FAILED and snap.problem is MicProblem.NO_DEVICE


def test_one_recording_at_a_time_delete_and_record_again(spoken):
    path, samples = spoken
    watch = Watch()
    recorder = Recorder(str(path), speed=1.0, on_change=watch)
    assert recorder.start()
    watch.until(lambda s: s.elapsed_s >= 0.2)
    assert not recorder.start()
    recorder.stop()
    assert finished(recorder).state is MicState.DONE and recorder.recording is not None
    recorder.discard()
    assert recorder.snapshot().state is MicState.IDLE and recorder.recording is None
    recorder.speed, recorder.limit_s = 0, 3.0
    assert recorder.start()
    assert finished(recorder).state is MicState.DONE
    assert recorder.recording.pcm == samples[:3 * SAMPLE_RATE].tobytes()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_problem_has_a_sentence_in_both_languages(lang):
    _ = gettext_for(lang)
    sentences = {_(msgid) for msgid in PROBLEM_MESSAGES.values()}
    assert len(sentences) == len(MicProblem)
    assert all("type" in s or "ketik" in s for s in sentences)
