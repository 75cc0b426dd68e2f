"""The microphone: capture sources and the recorder of a spoken complaint.

Sources, from the ``microphone_source`` setting: an ALSA capture device (``default``,
``plughw:1,0``, ``sysdefault:CARD=Device``), read by ``arecord`` (alsa-utils) in a process
of its own, or a sound file (WAV, FLAC, ...) for tests and for a kiosk without a
microphone. Every source delivers 16 kHz mono 16-bit PCM.

:class:`Recorder` reads on a worker thread of its own and encodes to Ogg Opus while the
citizen speaks (libsndfile through ``soundfile``), so stopping costs nothing. Its state,
the seconds recorded and the level are readable at any time without blocking
(:meth:`Recorder.snapshot`); it stops by itself at the limit (3 minutes by default); every
failure (no device, busy, no permission, the device gone mid-recording, a device that
delivers nothing) becomes ``FAILED`` with a :class:`MicProblem`, whose sentence for the
citizen is :data:`PROBLEM_MESSAGES` (a msgid), never an exception to the caller.
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import logging
import math
import os
import select
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from kiosk.kernel.i18n import N_

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
#: Frames per read: 100 ms, ten level and elapsed updates a second.
CHUNK_FRAMES = SAMPLE_RATE // 10
#: Seconds without a single byte from a capture device after which it counts as gone.
STALL_S = 2.0
#: The level meter's floor: quieter than this shows as an empty meter.
METER_FLOOR_DBFS = -60.0
OGG_OPUS = "audio/ogg; codecs=opus"
SOUND_FILE_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".opus"}


class MicState(str, enum.Enum):
    IDLE = "idle"
    RECORDING = "recording"
    DONE = "done"
    FAILED = "failed"


class MicProblem(str, enum.Enum):
    NOT_CONFIGURED = "not_configured"
    NO_DEVICE = "no_device"
    BUSY = "busy"
    PERMISSION = "permission"
    VANISHED = "vanished"
    BROKEN = "broken"


#: What the citizen is told for each problem (msgids; every one offers typing instead).
PROBLEM_MESSAGES: dict[MicProblem, str] = {
    MicProblem.NOT_CONFIGURED: N_("This kiosk has no microphone. Please type your report."),
    MicProblem.NO_DEVICE: N_("The microphone is not available. Please type your report."),
    MicProblem.BUSY: N_("The microphone is busy. Try again in a moment, or type your report."),
    MicProblem.PERMISSION: N_("The microphone cannot be opened. Please ask the staff for help, or type your report."),
    MicProblem.VANISHED: N_("The recording stopped: the microphone was disconnected. Please type your report."),
    MicProblem.BROKEN: N_("The recording did not work. Please type your report."),
}

#: What the technician should do about each problem (``kiosk doctor``).
PROBLEM_FIXES: dict[MicProblem, str] = {
    MicProblem.NOT_CONFIGURED: "",
    MicProblem.NO_DEVICE: "check microphone_source against `arecord -L`, the USB cable, and that alsa-utils is installed",
    MicProblem.BUSY: "another program holds the microphone (`fuser -v /dev/snd/*`): stop it",
    MicProblem.PERMISSION: "add the kiosk user to the group `audio` (docs/DEPLOY.md)",
    MicProblem.VANISHED: "replug the microphone or try another USB port",
    MicProblem.BROKEN: "see the detail and the kiosk log; a device named hw:N,M: use plughw:N,M",
}


class MicrophoneError(Exception):
    """A capture source failed; ``problem`` says how, the message is for the technician."""

    def __init__(self, problem: MicProblem, detail: str):
        super().__init__(detail)
        self.problem = problem


def _classify(stderr: str, *, delivered: bool) -> MicProblem:
    """arecord's error message as a problem. Open errors carry the errno's words
    ("audio open error: Device or resource busy"); a device that goes away after
    delivering sound ends with "read error: No such device" or just closes."""
    if delivered:
        return MicProblem.VANISHED
    text = stderr.lower()
    if "busy" in text:
        return MicProblem.BUSY
    if "permission denied" in text or "operation not permitted" in text:
        return MicProblem.PERMISSION
    if any(words in text for words in ("no such file", "no such device", "unknown pcm", "cannot get card",
                                       "no soundcards", "invalid card", "cannot find card")):
        return MicProblem.NO_DEVICE
    return MicProblem.BROKEN


class ArecordSource:
    """An ALSA capture device read by ``arecord`` as raw 16 kHz mono S16_LE on its stdout.

    A process of its own: a driver that hangs cannot hang the kiosk, it is killed.
    Its error messages go to a temporary file (a pipe could fill and stall it)."""

    def __init__(self, device: str, *, arecord: str = "arecord"):
        self.device = device
        self._stderr = tempfile.TemporaryFile()
        # Not -q: arecord warns only without it when a device records at another rate.
        command = [arecord, "-D", device, "-t", "raw", "-f", "S16_LE", "-r", str(SAMPLE_RATE), "-c", "1"]
        try:
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=self._stderr)
        except FileNotFoundError:
            self._stderr.close()
            raise MicrophoneError(MicProblem.NO_DEVICE, f"{arecord} not found: install alsa-utils") from None
        except PermissionError:
            self._stderr.close()
            raise MicrophoneError(MicProblem.PERMISSION, f"{arecord} may not be run") from None
        self._fd = self._proc.stdout.fileno()
        self.delivered = 0

    def read(self, frames: int) -> bytes:
        """Exactly ``frames`` frames, or MicrophoneError."""
        want, buf = frames * 2, bytearray()
        while len(buf) < want:
            ready, _, _ = select.select([self._fd], [], [], STALL_S)
            if not ready:
                raise MicrophoneError(MicProblem.VANISHED if self.delivered or buf else MicProblem.NO_DEVICE,
                                      f"no sound from {self.device!r} for {STALL_S:.0f} s")
            data = os.read(self._fd, want - len(buf))
            if not data:
                raise self._ended(delivered=bool(self.delivered or buf))
            buf += data
        if not self.delivered and "rate is not accurate" in self._errors():
            raise MicrophoneError(MicProblem.BROKEN, f"{self.device!r} does not record at {SAMPLE_RATE} Hz: "
                                  "name it through the plug plugin (plughw:N,M or default)")
        self.delivered += len(buf)
        return bytes(buf)

    def _errors(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _ended(self, *, delivered: bool) -> MicrophoneError:
        try:
            code = self._proc.wait(timeout=STALL_S)
        except subprocess.TimeoutExpired:
            code = None
        lines = [ln.strip() for ln in self._errors().splitlines() if ln.strip()]
        words = lines[-1] if lines else f"arecord ended (exit code {code})"
        return MicrophoneError(_classify("\n".join(lines), delivered=delivered), words)

    def close(self) -> None:
        # Our end of the pipe first: arecord blocked writing into a full pipe ignores
        # SIGTERM (the write restarts) but ends at once on the broken pipe.
        self._proc.stdout.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=STALL_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()


class FileSource:
    """A sound file as a microphone: mixed to mono, resampled to 16 kHz, then silence after
    its end (as ALSA's own file plugin does). ``speed`` 1.0 delivers in real time (a kiosk
    without a microphone), 0 as fast as it is read (tests)."""

    def __init__(self, path: Path, *, speed: float = 1.0):
        import soundfile

        try:
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, OSError, RuntimeError) as exc:
            raise MicrophoneError(MicProblem.NO_DEVICE, f"{path}: not a readable sound file ({type(exc).__name__})") from None
        mono = data.mean(axis=1)
        if rate != SAMPLE_RATE and len(mono):
            at = np.arange(0, len(mono) / rate, 1 / SAMPLE_RATE)
            mono = np.interp(at, np.arange(len(mono)) / rate, mono)
        self._pcm = np.clip(np.rint(mono * 32768), -32768, 32767).astype("<i2")  # 16-bit files stay exact
        self._pos, self._speed = 0, speed
        self._started = time.monotonic()
        self._closed = threading.Event()
        self.delivered = 0

    def read(self, frames: int) -> bytes:
        if self._speed > 0:
            due = self._started + (self._pos + frames) / SAMPLE_RATE / self._speed
            self._closed.wait(max(0.0, due - time.monotonic()))  # the pace of a real device
        chunk = self._pcm[self._pos:self._pos + frames]
        if len(chunk) < frames:
            chunk = np.concatenate([chunk, np.zeros(frames - len(chunk), dtype="<i2")])
        self._pos += frames
        self.delivered += frames * 2
        return chunk.tobytes()

    def close(self) -> None:
        self._closed.set()


def is_file_source(spec: str) -> bool:
    """Whether a ``microphone_source`` names a sound file (ALSA names have no slash)."""
    spec = spec.strip()
    return "/" in spec or Path(spec).suffix.lower() in SOUND_FILE_SUFFIXES


def open_source(spec: str, *, speed: float = 1.0, arecord: str = "arecord"):
    """The capture source a ``microphone_source`` setting names (raises MicrophoneError)."""
    spec = (spec or "").strip()
    if not spec:
        raise MicrophoneError(MicProblem.NOT_CONFIGURED, "no microphone configured (microphone_source is empty)")
    path = Path(spec)
    if is_file_source(spec):
        if not path.is_file():
            raise MicrophoneError(MicProblem.NO_DEVICE, f"{spec}: no such file")
        return FileSource(path, speed=speed)
    return ArecordSource(spec, arecord=arecord)


def list_capture_devices(arecord: str = "arecord") -> list[str] | None:
    """The sound cards' capture devices as ``arecord -l`` lists them ("card 1: Device [USB
    Audio Device], device 0: USB Audio [USB Audio]"), or None without arecord."""
    try:
        proc = subprocess.run([arecord, "-l"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [line.strip() for line in proc.stdout.splitlines() if line.startswith("card ")]


def level_dbfs(pcm: np.ndarray) -> float:
    """The RMS level of 16-bit samples in dB below full scale (silence: -inf)."""
    if not len(pcm):
        return -math.inf
    rms = math.sqrt(float(np.mean(np.square(pcm.astype(np.float64)))))
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


def meter(dbfs: float) -> float:
    """A level as a meter's fill, 0 to 1, from METER_FLOOR_DBFS to full scale."""
    return 0.0 if dbfs == -math.inf else min(1.0, max(0.0, (dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS))


def opus_compression_level(bitrate_kbps: float) -> float:
    """libsndfile's compression level (0 to 1) for an Opus bitrate: libsndfile 1.2 maps the
    level linearly onto 256 down to 6 kbit/s per channel (measured: docs/PERFORMANCE.md)."""
    return min(1.0, max(0.0, (256.0 - bitrate_kbps) / 250.0))


@dataclasses.dataclass(frozen=True)
class Recording:
    """A finished recording: the Ogg Opus bytes that travel, the PCM the citizen hears back."""

    ogg_opus: bytes
    pcm: bytes  # 16 kHz mono S16_LE
    duration_s: float
    limit_reached: bool
    sample_rate: int = SAMPLE_RATE
    content_type: str = OGG_OPUS

    @property
    def sha256(self) -> str:
        """The content hash of the encoded bytes (the upload's key with the Tracking ID)."""
        return hashlib.sha256(self.ogg_opus).hexdigest()

    def wav_bytes(self) -> bytes:
        """The recording as a WAV file in memory, for the kiosk's player."""
        import soundfile

        out = io.BytesIO()
        soundfile.write(out, np.frombuffer(self.pcm, dtype="<i2"), self.sample_rate, subtype="PCM_16", format="WAV")
        return out.getvalue()


def decode_ogg_opus(data: bytes) -> tuple[np.ndarray, int]:
    """Ogg Opus bytes back to 16-bit samples and their rate (proof that they play)."""
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    return samples, rate


@dataclasses.dataclass(frozen=True)
class MicSnapshot:
    """The recorder at one moment, for a meter and a countdown."""

    state: MicState
    elapsed_s: float
    limit_s: float
    level: float  # 0..1, the last 100 ms
    problem: MicProblem | None = None
    limit_reached: bool = False

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.limit_s - self.elapsed_s)

    @property
    def message(self) -> str | None:
        """The msgid to show and speak when the recording failed."""
        return PROBLEM_MESSAGES[self.problem] if self.problem is not None else None


class Recorder:
    """Records one spoken complaint at a time, on a thread of its own.

    ``on_change`` is called on the recorder's thread with a :class:`MicSnapshot` after
    every 100 ms of sound and at every change of state: a UI hands it to its own thread.
    ``speed`` is passed to a file source (0: as fast as it can be read)."""

    def __init__(self, source: str, *, limit_s: float = 180.0, bitrate_kbps: float = 20.0,
                 on_change: Callable[[MicSnapshot], None] | None = None, speed: float = 1.0,
                 arecord: str = "arecord"):
        self.source, self.limit_s, self.bitrate_kbps = source, limit_s, bitrate_kbps
        self.on_change, self.speed, self.arecord = on_change, speed, arecord
        self._lock = threading.Lock()
        self._snapshot = MicSnapshot(MicState.IDLE, 0.0, limit_s, 0.0)
        self._recording: Recording | None = None
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._finished.set()
        self._thread: threading.Thread | None = None

    def snapshot(self) -> MicSnapshot:
        with self._lock:
            return self._snapshot

    @property
    def recording(self) -> Recording | None:
        """The last finished recording (None while recording, after a failure or discard)."""
        with self._lock:
            return self._recording

    def start(self) -> bool:
        """Start a new recording (a previous one is dropped); False while one is running."""
        with self._lock:
            if self._snapshot.state is MicState.RECORDING:
                return False
            self._recording = None
            self._stop.clear()
            # Each recording its own event: the thread of the one before may still be ending.
            self._finished = finished = threading.Event()
            self._snapshot = MicSnapshot(MicState.RECORDING, 0.0, self.limit_s, 0.0)
            self._thread = threading.Thread(target=self._run, args=(finished,), name="microphone", daemon=True)
        self._notify(self._snapshot)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Ask the recording to end; returns at once (the state becomes DONE shortly)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no recording runs; False on timeout."""
        with self._lock:
            finished = self._finished
        return finished.wait(timeout)

    def discard(self) -> None:
        """Forget the recording (the citizen's "delete"); stops one that runs."""
        self.stop()
        self.wait(STALL_S * 2)
        with self._lock:
            self._recording = None
            if self._snapshot.state is not MicState.RECORDING:
                self._snapshot = MicSnapshot(MicState.IDLE, 0.0, self.limit_s, 0.0)

    def close(self, timeout: float = 5.0) -> None:
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the recorder's thread -----------------------------------------------------------------

    def _publish(self, **changes) -> None:
        with self._lock:
            self._snapshot = snap = dataclasses.replace(self._snapshot, **changes)
        self._notify(snap)

    def _notify(self, snap: MicSnapshot) -> None:
        if self.on_change is not None:
            try:
                self.on_change(snap)
            except Exception as exc:  # noqa: BLE001 - a listener's bug must not end a recording
                log.error("microphone listener failed: %s", type(exc).__name__)

    def _fail(self, exc: MicrophoneError) -> None:
        log.warning("microphone %s: %s", exc.problem.value, exc)
        self._publish(state=MicState.FAILED, problem=exc.problem, level=0.0)

    def _run(self, finished: threading.Event) -> None:
        try:
            self._record()
        finally:
            finished.set()

    def _record(self) -> None:
        import soundfile

        try:
            source = open_source(self.source, speed=self.speed, arecord=self.arecord)
        except MicrophoneError as exc:
            self._fail(exc)
            return
        limit = round(self.limit_s * SAMPLE_RATE)
        frames, pcm, encoded = 0, bytearray(), io.BytesIO()
        try:
            with soundfile.SoundFile(encoded, "w", SAMPLE_RATE, 1, "OPUS", format="OGG",
                                     compression_level=opus_compression_level(self.bitrate_kbps)) as encoder:
                while frames < limit and not self._stop.is_set():
                    n = min(CHUNK_FRAMES, limit - frames)
                    chunk = source.read(n)
                    samples = np.frombuffer(chunk, dtype="<i2")
                    encoder.write(samples)
                    pcm += chunk
                    frames += n
                    self._publish(elapsed_s=frames / SAMPLE_RATE, level=meter(level_dbfs(samples)))
        except MicrophoneError as exc:
            self._fail(exc)
            return
        except Exception as exc:  # noqa: BLE001 - an encoder or device bug: a message, not a crash
            self._fail(MicrophoneError(MicProblem.BROKEN, f"unexpected {type(exc).__name__}"))
            return
        finally:
            source.close()
        if not frames:  # stopped before any sound
            self._publish(state=MicState.IDLE, elapsed_s=0.0, level=0.0)
            return
        recording = Recording(bytes(encoded.getvalue()), bytes(pcm), frames / SAMPLE_RATE, frames >= limit)
        with self._lock:
            self._recording = recording
        log.info("microphone recorded %.1f s, %d bytes of Ogg Opus", recording.duration_s, len(recording.ogg_opus))
        self._publish(state=MicState.DONE, level=0.0, limit_reached=recording.limit_reached)


def probe(spec: str, *, seconds: float = 0.5, bitrate_kbps: float = 20.0,
          arecord: str = "arecord") -> tuple[MicProblem | None, str, float]:
    """Open a source for a moment, read ``seconds`` of sound and put it through the Ogg Opus
    encoder and back: (None, words, level in dBFS) or (problem, detail, -inf). For
    ``kiosk doctor``; never raises."""
    import soundfile

    try:
        source = open_source(spec, speed=0, arecord=arecord)
    except MicrophoneError as exc:
        return exc.problem, str(exc), -math.inf
    try:
        samples = np.frombuffer(source.read(round(seconds * SAMPLE_RATE)), dtype="<i2")
    except MicrophoneError as exc:
        return exc.problem, str(exc), -math.inf
    finally:
        source.close()
    try:
        encoded = io.BytesIO()
        with soundfile.SoundFile(encoded, "w", SAMPLE_RATE, 1, "OPUS", format="OGG",
                                 compression_level=opus_compression_level(bitrate_kbps)) as encoder:
            encoder.write(samples)
        decoded, _ = decode_ogg_opus(encoded.getvalue())
    except Exception as exc:  # noqa: BLE001 - a library without Opus: the doctor says so
        return MicProblem.BROKEN, f"the Ogg Opus encoder failed ({type(exc).__name__}: {exc})", -math.inf
    dbfs = level_dbfs(samples)
    words = "silence" if dbfs == -math.inf else f"{dbfs:.0f} dBFS"
    return None, (f"level {words} over {seconds:g} s; Ogg Opus at {bitrate_kbps:g} kbit/s encodes and decodes "
                  f"({len(decoded) / SAMPLE_RATE:.2f} s)"), dbfs
