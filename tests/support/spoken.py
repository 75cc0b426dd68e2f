"""A spoken complaint for tests: Indonesian speech made by espeak-ng as a WAV file (the
kiosk's microphone in tests: ``microphone_source`` may name a sound file), and a real
recording of it through ``devices.microphone.Recorder`` as the report keeps it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile

from devices.microphone import SAMPLE_RATE, Recorder
from kiosk.core.domain import VoiceNote

COMPLAINT = ("Jalan di depan kantor kecamatan rusak parah sejak bulan lalu. Banyak motor jatuh ketika hujan. "
             "Saya mohon agar segera diperbaiki oleh dinas pekerjaan umum. ")


def speech_wav(path: Path, text: str = COMPLAINT, *, repeat: int = 1) -> Path:
    """``path``: one second of silence, then ``text`` spoken ``repeat`` times by espeak-ng
    (Indonesian), 16 kHz 16-bit mono."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "id", "-w", str(raw), text], check=True, timeout=60)
    data, rate = soundfile.read(raw, dtype="float32")
    at = np.arange(0, len(data) / rate, 1 / SAMPLE_RATE)
    said = (np.interp(at, np.arange(len(data)) / rate, data) * 32767).astype("<i2")
    soundfile.write(path, np.concatenate([np.zeros(SAMPLE_RATE, dtype="<i2"), *[said] * repeat]), SAMPLE_RATE,
                    subtype="PCM_16")
    return path


def recorded(wav: Path, *, bitrate_kbps: float = 20.0) -> VoiceNote:
    """The whole of ``wav`` recorded through the real recorder (as fast as it reads), as a
    report holds it."""
    seconds = soundfile.info(str(wav)).frames / SAMPLE_RATE
    recorder = Recorder(str(wav), limit_s=seconds, bitrate_kbps=bitrate_kbps, speed=0)
    assert recorder.start()
    assert recorder.wait(60), "the recorder did not finish"
    recording = recorder.recording
    assert recording is not None, recorder.snapshot()
    return VoiceNote(ogg=recording.ogg_opus, sha256=recording.sha256, duration_s=recording.duration_s)
