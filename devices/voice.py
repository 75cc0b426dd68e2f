"""The kiosk's voices: espeak-ng in the process, and recorded clips that replace it.

Synthesis runs libespeak-ng from the ``espeakng-loader`` wheel (the library and its
``espeak-ng-data``, Indonesian and English voices included) through ctypes, in
synchronous mode: ``espeak_Synth`` hands 16-bit mono PCM at :data:`SAMPLE_RATE` to a
callback, chunk by chunk, and stops when the callback says so. Nothing is loaded at
import; the library is opened at the first :meth:`Synthesizer.open`. libespeak-ng keeps
global state: it is initialised once per process and used by one thread at a time
(a lock), whatever the number of :class:`Synthesizer` objects.

Every failure (the wheel missing, the library not loading, a voice missing, text that
gives no sound) is a :class:`VoiceError` with a sentence for the technician.

Recorded clips (:class:`ClipLibrary`): ``<dir>/<language>/<slug>.wav``, the slug from
:func:`kiosk.kernel.spoken.clip_slug`. Any PCM WAV (8/16/24/32-bit, mono or stereo, any
rate) is turned into the player's format; a clip that cannot be read is reported
(logged as a warning with its file name, and listed by ``kiosk doctor``) and the caller
falls back to synthesis.
"""
from __future__ import annotations

import ctypes
import logging
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from kiosk.kernel.spoken import clip_slug

log = logging.getLogger(__name__)

#: What espeak-ng produces and what the player plays: 16-bit signed, mono.
SAMPLE_RATE = 22050
#: The espeak-ng voice of each kiosk language.
VOICES = {"id": "id", "en": "en"}
#: Words per minute: espeak-ng's default is 175; slower for people who hear or read poorly.
DEFAULT_RATE_WPM = 150

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_RATE = 1  # espeak_PARAMETER espeakRATE
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class VoiceError(Exception):
    """No speech could be made; the message is for the technician."""


@dataclass(frozen=True)
class EngineStatus:
    """What ``kiosk doctor`` says about the synthesizer."""

    ok: bool
    detail: str
    voices: tuple[str, ...] = ()


class _Engine:
    """libespeak-ng loaded and initialised: once per process and library (it is one global
    state: a second ``espeak_Initialize`` under a running one crashes the process)."""

    def __init__(self, library: str, data_dir: str):
        try:
            self.lib = ctypes.CDLL(library)
        except OSError as exc:
            raise VoiceError(f"the espeak-ng library cannot be loaded: {exc}") from None
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Info.restype = ctypes.c_char_p
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_dir.encode(), 0)
        if rate != SAMPLE_RATE:
            raise VoiceError(f"espeak-ng did not start (it answered {rate}, expected {SAMPLE_RATE} Hz)")
        self.voice: str | None = None
        self.sink: Callable[[bytes], bool] | None = None
        self.callback = _CALLBACK(self._on_samples)  # kept alive as long as the library
        self.lib.espeak_SetSynthCallback(self.callback)

    def _on_samples(self, wav, count, _events) -> int:
        if count > 0 and self.sink is not None:
            return 0 if self.sink(ctypes.string_at(wav, count * 2)) else 1
        return 0


#: One engine per library file; every use holds :data:`_LOCK` (one synthesis at a time).
_ENGINES: dict[str, _Engine] = {}
_LOCK = threading.RLock()


class Synthesizer:
    """espeak-ng in the process: (text, language, rate) -> 16-bit PCM chunks. Any number of
    these may exist; they share the one engine and take turns."""

    def __init__(self, *, rate_wpm: int = DEFAULT_RATE_WPM, library: str | None = None,
                 data_dir: str | None = None):
        self.rate_wpm = rate_wpm
        self._library, self._data_dir = library, data_dir
        self._engine: _Engine | None = None

    def open(self) -> _Engine:
        """Load the library and its data (about 10 ms, once per process); raises :class:`VoiceError`."""
        if self._engine is not None:
            return self._engine
        library, data_dir = self._library, self._data_dir
        if library is None or data_dir is None:
            try:
                import espeakng_loader
            except ImportError:
                raise VoiceError("espeak-ng is not installed (the espeakng-loader package is missing)") from None
            library = library or espeakng_loader.get_library_path()
            try:
                data_dir = data_dir or espeakng_loader.get_data_path()
            except RuntimeError:
                raise VoiceError("espeak-ng's data folder is missing from the espeakng-loader package") from None
        if not Path(data_dir, "phontab").is_file():
            raise VoiceError(f"espeak-ng's data folder {data_dir} has no phoneme table")
        with _LOCK:
            engine = _ENGINES.get(str(library))
            if engine is None:
                engine = _ENGINES[str(library)] = _Engine(str(library), str(data_dir))
        self._engine = engine
        return engine

    def version(self) -> str:
        with _LOCK:
            return (self.open().lib.espeak_Info(None) or b"?").decode()

    def has_voice(self, language: str) -> bool:
        """True when espeak-ng can select the kiosk language's voice."""
        with _LOCK:
            engine = self.open()
            engine.voice = None
            return engine.lib.espeak_SetVoiceByName(VOICES[language].encode()) == 0

    def synthesize(self, text: str, language: str, on_chunk: Callable[[bytes], bool], *,
                   rate_wpm: int | None = None) -> None:
        """Speak ``text`` in ``language`` into ``on_chunk(pcm_bytes)``, called as audio is
        made (a few ms after the call); ``on_chunk`` returns False to stop synthesis.
        Raises :class:`VoiceError` when the voice is missing or the engine fails."""
        voice = VOICES.get(language)
        if voice is None:
            raise VoiceError(f"no voice for language {language!r}")
        with _LOCK:
            engine = self.open()
            if engine.voice != voice:
                if engine.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise VoiceError(f"espeak-ng has no {voice!r} voice")
                engine.voice = voice
            engine.lib.espeak_SetParameter(_RATE, int(rate_wpm or self.rate_wpm), 0)
            data = text.encode("utf-8")
            engine.sink = on_chunk
            try:
                result = engine.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            finally:
                engine.sink = None
            if result != 0:
                raise VoiceError(f"espeak-ng failed to speak (error {result})")

    def to_pcm(self, text: str, language: str, *, rate_wpm: int | None = None) -> bytes:
        """The whole utterance at once (tests, benchmarks, the catalog check)."""
        chunks: list[bytes] = []
        self.synthesize(text, language, lambda b: chunks.append(b) or True, rate_wpm=rate_wpm)
        return b"".join(chunks)


def engine_status(synth: Synthesizer | None = None) -> EngineStatus:
    """Whether espeak-ng loads and which kiosk voices it has (for ``kiosk doctor``)."""
    synth = synth or Synthesizer()
    try:
        version = synth.version()
        voices = tuple(lang for lang in VOICES if synth.has_voice(lang))
    except VoiceError as exc:
        return EngineStatus(False, str(exc))
    missing = [lang for lang in VOICES if lang not in voices]
    if missing:
        return EngineStatus(False, f"espeak-ng {version} has no voice for {', '.join(missing)}", voices)
    return EngineStatus(True, f"espeak-ng {version}, voices: " + ", ".join(voices), voices)


class ClipError(VoiceError):
    """A recorded clip exists but cannot be played."""


def read_wav_pcm(path: Path) -> bytes:
    """A PCM WAV file as 16-bit mono at :data:`SAMPLE_RATE` (raises :class:`ClipError`)."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise ClipError(f"{path.name}: not a readable PCM WAV file ({exc})") from None
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 4000:
        raise ClipError(f"{path.name}: unsupported WAV ({width * 8}-bit, {channels} channels, {rate} Hz)")
    if not frames or len(frames) % (width * channels):
        raise ClipError(f"{path.name}: the WAV file holds no sound or is cut short")
    if width == 1:
        samples = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width == 3:
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3)
        samples = (raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8)
                   | (raw[:, 2].astype(np.int8).astype(np.int32) << 16)) / 8388608.0
    else:
        dtype = np.int16 if width == 2 else np.int32
        samples = np.frombuffer(frames, dtype).astype(np.float32) / float(np.iinfo(dtype).max)
    mono = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        count = int(round(len(mono) * SAMPLE_RATE / rate))
        mono = np.interp(np.linspace(0, len(mono) - 1, count), np.arange(len(mono)), mono)
    return (np.clip(mono, -1, 1) * 32767).astype("<i2").tobytes()


class ClipLibrary:
    """Recorded clips by message id and language: ``<root>/<language>/<slug>.wav``."""

    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root else None

    def path_for(self, message_id: str, language: str) -> Path | None:
        if self.root is None:
            return None
        return self.root / language / f"{clip_slug(message_id)}.wav"

    def load(self, message_id: str, language: str) -> bytes | None:
        """The clip's PCM, or None when there is none; raises :class:`ClipError` for a
        clip that is there but damaged."""
        path = self.path_for(message_id, language)
        if path is None or not path.is_file():
            return None
        return read_wav_pcm(path)

    def check(self) -> tuple[int, list[str]]:
        """(clips that play, problems) for ``kiosk doctor``: every ``.wav`` under the folder."""
        if self.root is None:
            return 0, []
        if not self.root.is_dir():
            return 0, [f"the clips folder {self.root} does not exist"]
        good, problems = 0, []
        for path in sorted(self.root.glob("*/*.wav")):
            try:
                read_wav_pcm(path)
                good += 1
            except ClipError as exc:
                problems.append(f"{path.parent.name}/{exc}")
        return good, problems
