"""The one audio player: a thread and a queue between the UI and the sound card.

``Player.speak()`` and ``play_pcm()`` put an utterance on a queue and return at once (the
UI thread never waits for synthesis or sound). The player's thread takes one utterance at
a time: a recorded clip for its message id when the clip library has one, else espeak-ng
(``devices.voice``) synthesising straight into the sink, chunk by chunk, with the volume
applied to each chunk as it goes, so a volume key is heard at once. ``stop()`` drops the
queue and cuts what plays (the sink is aborted from the caller's thread, so a sink blocked
on the device is freed at once); ``reset()`` is ``stop()`` plus the default volume (the
end of each session); ``repeat()`` queues the last utterance again.

Sinks (``audio_output``): ``aplay`` (ALSA's aplay from alsa-utils, one process per
utterance fed raw PCM on stdin; stopping kills it, so ALSA drops its buffer), ``file``
(what would be played appended to a WAV file, and one JSON line per utterance: time,
label, seconds, volume, whether it was cut; for tests and ``make run`` without sound),
``none``. A sink that fails (aplay missing, no sound card) sets :attr:`Player.state` to a
plain sentence for the technician; nothing is raised to the caller.

Nothing here imports Kivy; callbacks are not used: the UI asks ``state`` when it needs to.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import shutil
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from devices.voice import SAMPLE_RATE, ClipError, ClipLibrary, Synthesizer, VoiceError
from kiosk.kernel.spoken import speech_text

log = logging.getLogger(__name__)

BYTES_PER_SECOND = SAMPLE_RATE * 2
#: Chunks a clip is cut into: how often a stop or a volume change is looked at.
CHUNK_BYTES = SAMPLE_RATE // 20 * 2  # 50 ms of 16-bit samples
OUTPUTS = ("aplay", "file", "none")


class SinkError(Exception):
    """The sound output failed; the message is for the technician."""


@dataclass(frozen=True)
class SinkStatus:
    ok: bool
    detail: str


# -- sinks ---------------------------------------------------------------------------------


class FileSink:
    """Appends what would be played to a 16-bit mono WAV file, at the pace a sound card
    plays it (with ``buffer_s`` of audio ahead, as a device buffer), and writes one JSON
    line per utterance to ``<wav>.jsonl``: ``time``, ``mono`` (time.monotonic of the first
    sample), ``end`` (monotonic), ``label``, ``seconds``, ``volume``, ``cut``."""

    name = "file"

    def __init__(self, path: str | Path, *, realtime: bool = True, buffer_s: float = 0.1):
        self.path = Path(path)
        self.journal = self.path.with_suffix(self.path.suffix + ".jsonl")
        self.realtime, self.buffer_s = realtime, buffer_s
        self._abort = threading.Event()
        self._current: dict | None = None
        #: Set when the current utterance's first sample reaches the file (tests wait on it).
        self.sounding = threading.Event()

    def status(self) -> SinkStatus:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return SinkStatus(False, f"cannot write {self.path.parent}: {exc.strerror}")
        if not os.access(self.path.parent, os.W_OK):
            return SinkStatus(False, f"cannot write {self.path.parent}")
        return SinkStatus(True, f"file {self.path} (nothing is heard)")

    def begin(self, label: str, volume: int) -> None:
        self._abort.clear()
        self.sounding.clear()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = _open_wav_for_append(self.path)
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc.strerror}") from None
        self._current = {"label": label, "volume": volume, "bytes": 0, "first": None, "started": None}

    def write(self, pcm: bytes) -> bool:
        """False once aborted (nothing more is taken)."""
        cur = self._current
        if cur is None or self._abort.is_set():
            return False
        now = time.monotonic()
        if cur["first"] is None:
            cur["first"], cur["started"] = now, now
            cur["time"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        self._fh.write(pcm)
        _patch_wav_sizes(self._fh)
        cur["bytes"] += len(pcm)
        self.sounding.set()
        if self.realtime:  # the device takes audio only as fast as it plays it
            ahead = cur["started"] + cur["bytes"] / BYTES_PER_SECOND - time.monotonic() - self.buffer_s
            if ahead > 0 and self._abort.wait(ahead):
                return False
        return not self._abort.is_set()

    def end(self) -> None:
        self._finish(cut=False)

    def abort(self) -> None:
        """Cut the current utterance (any thread)."""
        self._abort.set()

    def aborted(self) -> None:
        self._finish(cut=True)

    def _finish(self, *, cut: bool) -> None:
        cur, self._current = self._current, None
        if cur is None:
            return
        if self.realtime and not cut and cur["started"] is not None:  # let the buffer play out
            rest = cur["started"] + cur["bytes"] / BYTES_PER_SECOND - time.monotonic()
            if rest > 0:
                cut = self._abort.wait(rest)
        end = time.monotonic()
        played = cur["bytes"] / BYTES_PER_SECOND
        if cut and cur["started"] is not None:  # what had left the device buffer
            played = min(played, end - cur["started"])
        self._fh.close()
        line = {"time": cur.get("time"), "mono": cur["first"], "end": end, "label": cur["label"],
                "seconds": round(played, 3), "volume": cur["volume"], "cut": cut}
        with self.journal.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.abort()


def _open_wav_for_append(path: Path):
    """The WAV file open at its end; a new one (or one not of our format, set aside as
    ``.old``) gets a fresh 44-byte header."""
    if path.exists():
        with path.open("rb") as fh:
            head = fh.read(44)
        ours = (len(head) == 44 and head[:4] == b"RIFF" and head[8:16] == b"WAVEfmt "
                and struct.unpack("<HHI", head[20:28]) == (1, 1, SAMPLE_RATE) and head[36:40] == b"data")
        if ours:
            fh = path.open("r+b")
            fh.seek(0, os.SEEK_END)
            return fh
        path.replace(path.with_suffix(path.suffix + ".old"))
    fh = path.open("w+b")
    fh.write(b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, SAMPLE_RATE, BYTES_PER_SECOND, 2, 16) + b"data" + struct.pack("<I", 0))
    return fh


def _patch_wav_sizes(fh) -> None:
    end = fh.tell()
    fh.seek(4)
    fh.write(struct.pack("<I", end - 8))
    fh.seek(40)
    fh.write(struct.pack("<I", end - 44))
    fh.seek(end)
    fh.flush()


class AplaySink:
    """ALSA through ``aplay`` (alsa-utils): one process per utterance, raw PCM on stdin."""

    name = "aplay"

    def __init__(self, device: str = "default", *, buffer_ms: int = 200):
        self.device, self.buffer_ms = device, buffer_ms
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._cut = self._error = False

    def _command(self) -> list[str]:
        return ["aplay", "-q", "-D", self.device, "-t", "raw", "-f", "S16_LE", "-r", str(SAMPLE_RATE),
                "-c", "1", f"--buffer-time={self.buffer_ms * 1000}", "-"]

    def status(self) -> SinkStatus:
        """Plays 50 ms of silence on the device: the one sure test that it can play."""
        if shutil.which("aplay") is None:
            return SinkStatus(False, "aplay is not installed (Debian package alsa-utils)")
        try:
            done = subprocess.run(self._command(), input=bytes(CHUNK_BYTES), capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            return SinkStatus(False, f"ALSA device {self.device!r} did not play 50 ms of silence in 5 s")
        if done.returncode != 0:
            return SinkStatus(False, f"ALSA device {self.device!r}: {_last_line(done.stderr)}")
        return SinkStatus(True, f"ALSA device {self.device!r} through aplay")

    def begin(self, label: str, volume: int) -> None:
        try:
            proc = subprocess.Popen(self._command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            raise SinkError(f"aplay cannot be started ({exc.strerror}): install alsa-utils") from None
        with self._lock:
            self._proc, self._cut, self._error = proc, False, False

    def write(self, pcm: bytes) -> bool:
        """False when cut or failed (the failure is raised by :meth:`end`)."""
        proc = self._proc
        if proc is None or self._cut or self._error:
            return False
        try:
            proc.stdin.write(pcm)
        except (BrokenPipeError, ValueError, OSError):
            if not self._cut:
                self._error = True
            return False
        return not self._cut

    def end(self) -> None:
        """Let aplay play what it holds and exit; raises :class:`SinkError` if it failed."""
        proc = self._proc
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        proc.wait()
        with self._lock:
            self._proc = None
        if (proc.returncode != 0 or self._error) and not self._cut:
            raise SinkError(f"ALSA device {self.device!r}: {_last_line(proc.stderr.read())}")
        proc.stderr.close()

    def abort(self) -> None:
        """Kill aplay: ALSA drops what it holds (any thread)."""
        with self._lock:
            self._cut = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def aborted(self) -> None:
        """After a cut: aplay gone and its pipes closed. A stop that came while
        :meth:`begin` was still starting aplay found no process to kill, and ``begin``
        then cleared the cut; killed here, or this thread waited for ever on an aplay
        that nothing would close (the kiosk silent until restarted)."""
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
        with self._lock:
            self._proc = None

    def close(self) -> None:
        self.abort()
        self.aborted()


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "aplay failed"


class NullSink:
    name = "none"

    def status(self) -> SinkStatus:
        return SinkStatus(True, "no audio output configured (audio_output = none)")

    def begin(self, label, volume): pass
    def write(self, pcm): return True
    def end(self): pass
    def abort(self): pass
    def aborted(self): pass
    def close(self): pass


def make_sink(output: str, *, device: str = "default", path: str | Path = ""):
    """The sink an ``audio_output`` setting names."""
    if output == "aplay":
        return AplaySink(device)
    if output == "file":
        return FileSink(path)
    if output == "none":
        return NullSink()
    raise ValueError(f"unknown audio output {output!r}; one of {', '.join(OUTPUTS)}")


# -- the player ----------------------------------------------------------------------------

#: Below this a sample counts as silence (-54 dBFS), when the start of speech is trimmed.
SILENCE = 64
#: Silence kept before the first sound, so the speaker's amplifier wakes before the word.
LEAD_IN = SAMPLE_RATE // 50 * 2  # 20 ms


def _without_leading_silence(chunk: bytes) -> bytes:
    """The chunk from 20 ms before its first sound; b"" when it is all silence."""
    loud = np.flatnonzero(np.abs(np.frombuffer(chunk, "<i2").astype(np.int32)) >= SILENCE)
    if not loud.size:
        return b""
    return chunk[max(0, int(loud[0]) * 2 - LEAD_IN):]



@dataclass(frozen=True)
class Utterance:
    """What to say: ``text`` in ``language``; ``message_id`` (the English msgid) finds a
    recorded clip and labels the utterance in logs; ``pcm`` is ready audio (no synthesis)."""

    text: str = ""
    language: str = "id"
    message_id: str | None = None
    pcm: bytes | None = field(default=None, repr=False)
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.message_id or self.text


@dataclass(frozen=True)
class PlayerState:
    ok: bool
    detail: str


class Player:
    """One thread, one queue; every public method returns at once."""

    def __init__(self, sink, synth: Synthesizer | None = None, clips: ClipLibrary | None = None, *,
                 volume_default: int = 70, volume_step: int = 10, volume_min: int = 10, volume_max: int = 100):
        self.sink, self.synth, self.clips = sink, synth or Synthesizer(), clips or ClipLibrary(None)
        self.volume_default, self.volume_step = volume_default, volume_step
        self.volume_min, self.volume_max = volume_min, volume_max
        self._volume = volume_default
        self._queue: queue.Queue[tuple[int, Utterance] | None] = queue.Queue()  # (generation, what)
        self._generation = 0
        self._busy = False
        self._idle = threading.Condition()
        self._last: Utterance | None = None
        self._thread: threading.Thread | None = None
        self.state = PlayerState(True, "not started")

    # -- the caller's side (UI thread): never blocks -----------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audio", daemon=True)
            self._thread.start()

    def speak(self, text: str, language: str, message_id: str | None = None, *, label: str = "") -> None:
        """Say ``text`` after what is queued (a recorded clip for ``message_id`` first)."""
        self._put(Utterance(text=text, language=language, message_id=message_id, label=label))

    def play_pcm(self, pcm: bytes, label: str) -> None:
        """Play ready 16-bit mono PCM at :data:`SAMPLE_RATE` after what is queued."""
        self._put(Utterance(pcm=pcm, label=label))

    def stop(self) -> None:
        """Drop what is queued and cut what plays (navigating stops speech)."""
        with self._idle:
            self._generation += 1
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            busy = self._busy
        if busy:
            self.sink.abort()

    def repeat(self) -> None:
        """Say the last utterance again, at once."""
        last = self._last
        self.stop()
        if last is not None:
            self._put(last)

    def volume_up(self) -> int:
        self._volume = min(self.volume_max, self._volume + self.volume_step)
        return self._volume

    def volume_down(self) -> int:
        self._volume = max(self.volume_min, self._volume - self.volume_step)
        return self._volume

    @property
    def volume(self) -> int:
        return self._volume

    def reset(self) -> None:
        """The end of a session: silence and the default volume."""
        self.stop()
        self._volume = self.volume_default

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is queued or playing (tests, benchmarks, shutting down)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy and self._queue.empty(), timeout)

    def close(self, timeout: float = 2.0) -> None:
        self.stop()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
        self.sink.close()

    def _put(self, utterance: Utterance) -> None:
        with self._idle:
            self._last = utterance
            self._queue.put((self._generation, utterance))

    # -- the player's thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, utterance = item  # queued before a stop(): never played
            with self._idle:
                self._busy = True
            try:
                self._say(utterance, generation)
            except Exception as exc:  # noqa: BLE001 - a sound bug must never reach the citizen
                log.error("audio: %s failed: %s", type(exc).__name__, exc if isinstance(exc, SinkError) else "")
                self.state = PlayerState(False, f"audio failed: {type(exc).__name__}")
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()

    def _say(self, utterance: Utterance, generation: int) -> None:
        pcm = utterance.pcm
        if pcm is None and utterance.message_id:
            try:
                pcm = self.clips.load(utterance.message_id, utterance.language)
            except ClipError as exc:
                log.warning("speech: damaged clip, speaking with espeak-ng instead: %s/%s", utterance.language, exc)
        live = lambda: generation == self._generation  # noqa: E731
        if not live():
            return
        try:
            self.sink.begin(utterance.name, self._volume)
        except SinkError as exc:
            self._sink_failed(exc)
            return
        cut = False
        failure: list[Exception] = []

        leading = pcm is None  # espeak-ng starts with about 0.2 s of silence: not played

        def emit(chunk: bytes) -> bool:  # may run inside espeak-ng's callback: never raises
            nonlocal cut, leading
            if leading:
                chunk = _without_leading_silence(chunk)
                if not chunk:
                    return live()
                leading = False
            try:
                if live() and self.sink.write(self._gain(chunk)):
                    return True
            except Exception as exc:  # noqa: BLE001
                failure.append(exc)
            cut = cut or not live()
            return False

        voice_error = None
        try:
            if pcm is not None:
                for start in range(0, len(pcm), CHUNK_BYTES):
                    if not emit(pcm[start:start + CHUNK_BYTES]):
                        break
            else:
                try:
                    self.synth.synthesize(speech_text(utterance.text, utterance.language), utterance.language, emit)
                except VoiceError as exc:
                    voice_error = exc
            if failure:
                raise SinkError(str(failure[0]))
            if cut:
                self.sink.aborted()
            else:
                self.sink.end()
        except SinkError as exc:
            self._sink_failed(exc)
            return
        if voice_error is not None:
            log.error("speech: %s", voice_error)
            self.state = PlayerState(False, str(voice_error))
        else:
            self.state = PlayerState(True, f"{self.sink.name}: ready")
        log.debug("audio: played %s (%s)", utterance.message_id or "text", "cut" if cut else "whole")

    def _sink_failed(self, exc: SinkError) -> None:
        log.error("audio output failed: %s", exc)
        self.state = PlayerState(False, f"audio output failed: {exc}")
        try:
            self.sink.aborted()
        except Exception:  # noqa: BLE001
            pass

    def _gain(self, chunk: bytes) -> bytes:
        if self._volume >= 100:
            return chunk
        samples = np.frombuffer(chunk, "<i2").astype(np.int32) * self._volume // 100
        return samples.astype("<i2").tobytes()
