"""``kiosk doctor`` on the microphone, run as the real command: a WAV file, the real arecord
with a device that ALSA's file plugin feeds (speech, then silence), a card that is not there."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import soundfile

from tests.support.alsa_file_mic import DEVICE, alsa_home
from tests.support.servers import ROOT

RATE = 16_000


def doctor(tmp_path, source: str, home=None) -> tuple[int, dict]:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nmicrophone_source = "{source}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    if home is not None:
        env["HOME"] = str(home)
    run = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "doctor", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    return run.returncode, {c["check"]: c for c in json.loads(run.stdout)}["microphone"]


def tone(seconds: float, amplitude: int) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 300 * t) * amplitude).astype("<i2")


def test_doctor_with_a_wav_file_says_its_level_and_that_opus_works(tmp_path):
    path = tmp_path / "voice.wav"
    soundfile.write(path, tone(2, 3277), RATE, subtype="PCM_16")  # -23 dBFS RMS
    code, row = doctor(tmp_path, str(path))
    assert row["ok"] and not row["fix"], row
    assert "level -23 dBFS over 0.5 s" in row["detail"] and "Ogg Opus at 20 kbit/s encodes and decodes" in row["detail"]
    assert "capture devices: none" in row["detail"]


def test_doctor_opens_a_real_alsa_device_and_warns_about_silence(tmp_path):
    """GIVEN an ALSA device read by the real arecord THEN its level is reported; a device
    that delivers only silence (muted) is a warning with what to do."""
    code, row = doctor(tmp_path / "a", DEVICE, home=alsa_home(tmp_path / "a", tone(2, 3277)))
    assert row["ok"] and not row["fix"] and "level -23 dBFS" in row["detail"], row
    code, row = doctor(tmp_path / "b", DEVICE, home=alsa_home(tmp_path / "b", np.zeros(RATE, "<i2")))
    assert row["ok"] and "alsamixer" in row["fix"] and "level silence" in row["detail"], row
    assert code == 0


def test_doctor_fails_on_a_card_that_is_not_there(tmp_path):
    code, row = doctor(tmp_path, "plughw:7,0")
    assert code == 1 and not row["ok"], row
    assert "audio open error" in row["detail"] and "arecord -L" in row["fix"]


def test_doctor_without_a_microphone(tmp_path):
    code, row = doctor(tmp_path, "")
    assert row["ok"] and row["detail"].startswith("no microphone configured: citizens type their report"), row
