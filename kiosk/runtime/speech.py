"""The kiosk's voice from its config: the player, and what ``kiosk doctor`` says of it."""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

from kiosk.runtime.config import Config

log = logging.getLogger(__name__)


def audio_file(config: Config) -> Path:
    """Where ``audio_output = "file"`` writes what would be played."""
    return Path(config.audio_file) if config.audio_file else config.data_path / "audio" / "spoken.wav"


def clips_dir(config: Config) -> Path:
    """The recorded clips' folder: ``<clips>/<language>/<slug>.wav`` (docs/SPEECH.md)."""
    return Path(config.speech_clips_dir) if config.speech_clips_dir else config.data_path / "clips"


def make_player(config: Config):
    """A started :class:`devices.audio.Player` as the config says (never raises for a
    missing engine or sound card: its ``state`` says so)."""
    from devices.audio import Player, make_sink
    from devices.voice import ClipLibrary, Synthesizer

    sink = make_sink(config.audio_output, device=config.audio_device, path=audio_file(config))
    player = Player(sink, Synthesizer(rate_wpm=config.speech_rate_wpm), ClipLibrary(clips_dir(config)),
                    volume_default=config.audio_volume, volume_step=config.audio_volume_step)
    player.start()
    return player


def _alsa_cards() -> str:
    """The playback cards ``aplay -l`` lists, in a few words."""
    if shutil.which("aplay") is None:
        return "aplay not installed"
    try:
        out = subprocess.run(["aplay", "-l"], capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        return "aplay -l did not answer"
    cards = re.findall(r"^card (\d+): (\S+) \[([^\]]*)\], device (\d+): [^\[]*\[([^\]]*)\]", out.stdout, re.M)
    if not cards:
        return "no sound card found"
    return "; ".join(f"hw:{c},{d} {name} ({dev})" for c, _, name, d, dev in cards)


def check_audio(config: Config) -> tuple[bool, str, str]:
    """(ok, detail, fix) for the audio output, with the sound cards ALSA sees."""
    from devices.audio import make_sink

    sink = make_sink(config.audio_output, device=config.audio_device, path=audio_file(config))
    status = sink.status()
    detail = f"{status.detail}; outputs: {_alsa_cards()}"
    if status.ok:
        return True, detail, ""
    fix = ("install alsa-utils, plug the speaker or headset, and check audio_device (`aplay -l` lists "
           "the cards; `speaker-test -D DEVICE -t wav -c 2 -l 1` says front left, front right)"
           if config.audio_output == "aplay" else "check audio_file and the data directory's permissions")
    return False, detail, fix


def check_voice(config: Config) -> tuple[bool, str, str]:
    """(ok, detail, fix) for espeak-ng, its voices, and the recorded clips."""
    from devices.voice import ClipLibrary, engine_status

    engine = engine_status()
    good, problems = ClipLibrary(clips_dir(config)).check() if clips_dir(config).is_dir() else (0, [])
    detail = f"{engine.detail}; {good} recorded clip(s) in {clips_dir(config)}"
    if problems:
        detail += f"; {len(problems)} damaged (espeak-ng speaks instead): " + ", ".join(problems[:5])
    if not engine.ok:
        return False, detail, "reinstall the kiosk (the bundle carries espeak-ng and its data: espeakng-loader)"
    return True, detail, "re-record the damaged clips as PCM WAV files" if problems else ""


def check_headset(config: Config) -> tuple[bool, str, str]:
    """(ok, detail, fix) for the headset jack: plugged or not, the card's auto-mute (the
    speaker silent while a headset is in), and the jack controls the cards offer."""
    from devices.headset import JackError, auto_mute, parse_spec, read_jack

    if not config.headset_jack:
        return True, "not watched (headset_jack is empty): a headset does not switch speech mode on", ""
    try:
        plugged = read_jack(config.headset_jack)
    except JackError as exc:
        return False, str(exc), ("set headset_jack to a jack control `amixer -c 0 controls | grep Jack` lists, "
                                 "e.g. alsa:0:Headphone Jack")
    detail = f"headset {'plugged' if plugged else 'not plugged'} ({config.headset_jack})"
    kind, card, _control = parse_spec(config.headset_jack)
    if kind == "alsa":
        mute = auto_mute(card)
        detail += f"; speaker auto-mute: {mute or 'no such control'}"
        if mute == "Disabled":
            return False, detail, f"amixer -c {card} sset 'Auto-Mute Mode' Enabled (and `alsactl store`)"
    return True, detail, ""
