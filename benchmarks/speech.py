"""Tap to first audio sample (goal: under 300 ms), each against playing a ready WAV file
through the same player, in the same run, alternating.

- The player alone: from ``Player.speak()`` to the first sample reaching the sink
  (espeak-ng synthesising), against ``Player.play_pcm()`` of a ready WAV file.
- Through the kiosk: a real ``KioskApp`` on a headless Kivy window (SDL2 on an offscreen
  EGL surface, Mesa llvmpipe; the real SQLite store and file printer), driven frame by
  frame as ``tests/support/ui_driver.py`` drives it in the UI tests. A finger down and up
  on the access bar's "Dengarkan" (Welcome read from the top), and the Down key with voice
  guidance on (the focus ring moves on and names the control), each timed from the
  dispatch of the touch or key to the first sample reaching the app's own player's sink;
  the baseline is ``play_pcm()`` of the ready WAV file through that same player. It runs
  in a child process (``python -m benchmarks.speech kiosk OUTPUT DEVICE RUNS``), so Kivy
  is configured before its window exists and stays out of ``make bench``'s process.

Both ways on both sinks: the file sink (the kiosk's default), and aplay (alsa-utils) on an
ALSA device (``BENCH_ALSA_DEVICE``, default ``null``: ALSA's null plugin, on a machine
with no sound card). ``BENCH_SPEECH_RUNS`` (default 30) repetitions of each, after a
warm-up.

    .venv/bin/python -m benchmarks.speech    # rewrites its section of docs/PERFORMANCE.md
"""
from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

START, END = "<!-- speech:start -->", "<!-- speech:end -->"
#: Short prompts as the screens speak them (Indonesian), and one English.
PROMPTS = (("Buat Laporan", "id"), ("Ceritakan apa yang terjadi", "id"), ("Check status", "en"))
#: Repetitions of each measurement, the player alone and through the kiosk's window.
RUNS = int(os.environ.get("BENCH_SPEECH_RUNS", "30"))
#: Rounds played first and not counted: espeak-ng's voices, the screens' words, aplay's pages.
WARM_UP_ROUNDS = 3
#: The longest a repetition waits for its first sample (or for the player to fall silent).
TIMEOUT_S = 10.0
#: The line the kiosk child prints its results on.
KIOSK_MARK = "SPEECH_KIOSK "


class FirstSample:
    """Wraps a player's sink: notes when the first sample after :meth:`arm` reaches it, and
    which utterance it belongs to (its label); everything else goes to the sink itself."""

    def __init__(self, sink):
        self._sink = sink
        self._label: str | None = None
        self.arm()

    def arm(self) -> None:
        """Wait for the next sample (call it while the player is silent)."""
        self.first: float | None = None
        self.label: str | None = None
        self.arrived = threading.Event()

    def begin(self, label: str, volume: int) -> None:
        self._label = label
        self._sink.begin(label, volume)

    def write(self, pcm: bytes) -> bool:
        if self.first is None:
            self.first, self.label = time.monotonic(), self._label
            self.arrived.set()
        return self._sink.write(pcm)

    def __getattr__(self, name: str):
        return getattr(self._sink, name)


def measure(runs: int = RUNS, alsa_device: str | None = None) -> dict:
    """{sink: {"speak": [ms...], "wav": [ms...], "kiosk": what :func:`drive` measured},
    "leading_ms": ms}: ``runs`` of each, the player alone and through the kiosk."""
    from devices.audio import AplaySink, FileSink, Player
    from devices.voice import Synthesizer, read_wav_pcm

    alsa_device = alsa_device or os.environ.get("BENCH_ALSA_DEVICE", "null")
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        wav = write_ready_wav(Path(folder) / "ready.wav")
        for name, sink, output, device in (
                ("file sink", FileSink(Path(folder) / "out.wav", realtime=False), "file", "default"),
                (f"aplay -D {alsa_device}", AplaySink(alsa_device), "aplay", alsa_device)):
            probe = FirstSample(sink)
            player = Player(probe, Synthesizer())
            player.start()
            times = {"speak": [], "wav": []}
            try:
                player.speak("Siap", "id")  # the library and its voice loaded once, as at the kiosk's start
                player.wait_idle(10)
                for i in range(runs):
                    for kind in ("speak", "wav"):
                        probe.arm()
                        text, lang = PROMPTS[i % len(PROMPTS)]
                        started = time.monotonic()
                        if kind == "speak":
                            player.speak(text, lang)
                        else:
                            player.play_pcm(read_wav_pcm(wav), "ready wav")
                        player.wait_idle(10)
                        if probe.first is not None:
                            times[kind].append((probe.first - started) * 1000)
            finally:
                player.close()
            if not player.state.ok:
                raise RuntimeError(f"{name}: {player.state.detail}")
            times["kiosk"] = measure_kiosk(output, device, runs)
            results[name] = times
        import numpy as np

        pcm = np.abs(np.frombuffer(Synthesizer().to_pcm(*PROMPTS[0]), "<i2").astype(np.int32))
        results["leading_ms"] = float(np.argmax(pcm >= 64) / 22.05)
    return results


def write_ready_wav(path: Path) -> Path:
    """The baseline's ready WAV file: "Buat Laporan" as espeak-ng says it, 16-bit mono."""
    import wave

    from devices.voice import SAMPLE_RATE, Synthesizer

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(Synthesizer().to_pcm("Buat Laporan", "id"))
    return path


# -- through the kiosk's window ---------------------------------------------------------------


def measure_kiosk(output: str, device: str, runs: int) -> dict:
    """Run :func:`kiosk_child` in a fresh process with a headless, hermetic Kivy (its own
    KIVY_HOME) and the kiosk's ``audio_output`` set to ``output`` on ``device``."""
    from benchmarks.common import ROOT, kivy_process_env

    args = [sys.executable, "-m", "benchmarks.speech", "kiosk", output, device, str(runs)]
    proc = subprocess.run(args, cwd=ROOT, env=kivy_process_env(), capture_output=True, text=True, timeout=900)
    found = [line for line in proc.stdout.splitlines() if line.startswith(KIOSK_MARK)]
    if proc.returncode or not found:
        raise RuntimeError(f"the kiosk's speech benchmark ({output}) failed with {proc.returncode}:\n"
                           f"{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    return json.loads(found[-1][len(KIOSK_MARK):])


def kiosk_child(output: str, device: str, runs: int) -> dict:
    """In the child: a kiosk on a fresh data directory (real store, file printer, the voice
    on ``output``), its app on a headless window, then :func:`drive`."""
    from kiosk.runtime.config import load_config
    from screens.app import configure_kivy

    with tempfile.TemporaryDirectory() as folder:
        config_file = Path(folder) / "kiosk.toml"
        config_file.write_text(f'data_dir = "{Path(folder) / "data"}"\nkiosk_code = "B000"\n'
                               f'audio_output = "{output}"\naudio_device = "{device}"\n', encoding="utf-8")
        config = load_config(config_file, environ={})
        configure_kivy(config)  # before any window exists
        from kivy.base import EventLoop
        from kivy.graphics.opengl import GL_RENDERER, glGetString

        EventLoop.ensure_window()
        from kiosk.runtime.env import build_env
        from screens.display import ACTIVE_FPS
        from tests.support.ui_driver import KioskDriver

        env = build_env(config)
        try:
            kiosk = KioskDriver(env)
            try:
                results = drive(kiosk, env, write_ready_wav(Path(folder) / "ready.wav"), runs)
            finally:
                kiosk.close()
        finally:
            env.close()
        results.update(renderer=glGetString(GL_RENDERER).decode(errors="replace"),
                       active_fps=ACTIVE_FPS, idle_fps=config.idle_fps)
        return results


def drive(kiosk, env, wav: Path, runs: int) -> dict:
    """On Welcome, ``runs`` rounds after :data:`WARM_UP_ROUNDS`, each: the ready WAV file
    through the app's player, a tap on "Dengarkan" (voice guidance off, as a sighted
    citizen finds it), the Down key (voice guidance on). Between them the player is
    stopped and silent, so each waits for its own first sample, whose utterance is checked
    to be the first one the action handed to the player. Milliseconds, and the parts of a
    tap and a key: the handlers of each event, the frame between finger down and up, the
    player after the last handler returned."""
    from kivy.core.window import Window

    from devices.voice import read_wav_pcm
    from screens import access
    from tests.support.finger import Finger

    app, player = kiosk.app, env.player
    probe = FirstSample(player.sink)
    player.sink = probe  # before anything is said: the app's own player, its own sink inside
    listen = app.root.bar.ids.listen
    names = ("wav", "tap", "tap_down", "tap_frame", "tap_release", "tap_player", "key", "key_down", "key_player")
    times: dict[str, list[float]] = {name: [] for name in names}

    def silent() -> None:
        """Two frames (the window draws what changed, e.g. the voice guidance button, before
        the citizen acts: not the action's work), then stop whatever is said (as navigating
        does) and wait until the player is idle."""
        kiosk.frames(2)
        app.speech.stop()
        if not player.wait_idle(TIMEOUT_S):
            raise TimeoutError(f"the player still busy {TIMEOUT_S:.0f} s after stop()")
        probe.arm()

    def first_sample(what: str, said_before: int | None) -> float:
        """Frames at the kiosk's pace until the sink has its first sample; that sample's time."""
        deadline = time.monotonic() + TIMEOUT_S
        while not probe.arrived.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no audio sample {TIMEOUT_S:.0f} s after {what}")
            kiosk.frames(1, paced=True)
        if said_before is not None:  # the sample is of the utterance this action queued first
            said = app.speech.said[said_before:]
            if not said or said[0].label != probe.label:
                raise AssertionError(f"{what}: first sample of {probe.label!r}, the action said "
                                     f"{[s.label for s in said[:3]]}")
        return probe.first

    def play_wav() -> dict[str, float]:
        silent()
        started = time.monotonic()
        player.play_pcm(read_wav_pcm(wav), "ready wav")
        first = first_sample("play_pcm()", None)
        if probe.label != "ready wav":
            raise AssertionError(f"play_pcm(): first sample of {probe.label!r}")
        return {"wav": first - started}

    def tap_listen() -> dict[str, float]:
        app.set_speech_mode(False)
        deadline = time.monotonic() + TIMEOUT_S
        while app.tap_guard.settle_left() > 0:  # no screen changes here: never waits, in fact
            if time.monotonic() > deadline:
                raise TimeoutError("the tap guard never settled")
            kiosk.frames(1, paced=True)
        silent()
        assert app.root.current == "welcome" and listen.get_root_window() is not None, "Dengarkan is not on screen"
        said_before = len(app.speech.said)
        finger = Finger(*listen.to_window(*listen.center))
        down = time.monotonic()
        finger.down()
        down_done = time.monotonic()
        kiosk.frames(1)  # as KioskDriver.tap_at: one frame between finger down and up
        up = time.monotonic()
        finger.up()  # on_release: app.listen()
        up_done = time.monotonic()
        first = first_sample('the tap on "Dengarkan"', said_before)
        return {"tap": first - down, "tap_down": down_done - down, "tap_frame": up - down_done,
                "tap_release": up_done - up, "tap_player": first - up_done}

    def key_down() -> dict[str, float]:
        if not app.speech_mode:
            app.set_speech_mode(True)
        silent()
        said_before = len(app.speech.said)
        pressed = time.monotonic()
        Window.dispatch("on_key_down", access.DOWN, 0, None, [])  # the ring moves, the control is named
        handled = time.monotonic()
        Window.dispatch("on_key_up", access.DOWN, 0)
        first = first_sample("the Down key", said_before)
        return {"key": first - pressed, "key_down": handled - pressed, "key_player": first - handled}

    for round_ in range(WARM_UP_ROUNDS + runs):
        for step in (play_wav, tap_listen, key_down):
            measured = step()
            if round_ >= WARM_UP_ROUNDS:
                for name, seconds in measured.items():
                    times[name].append(seconds * 1000)
    silent()
    if not player.state.ok:
        raise RuntimeError(f"the kiosk's player: {player.state.detail}")
    return times


# -- docs/PERFORMANCE.md ------------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def _median(values: list[float]) -> float:
    return statistics.median(values)


def lines(results: dict, machine: str | None = None) -> list[str]:
    """The section of docs/PERFORMANCE.md."""
    sinks = {name: times for name, times in results.items() if isinstance(times, dict)}
    out = [START, "", "Tap to first audio sample (goal: under 300 ms): from `Player.speak()` to the first sample of",
           "espeak-ng's speech reaching the sink, against `Player.play_pcm()` of a ready WAV file (read and",
           "converted at the call) through the same player, alternating in one run (`benchmarks/speech.py`"
           + (f"; {machine}" if machine else "") + "):", "",
           "| sink | what | runs | median ms | p95 ms |", "|---|---|---|---|---|"]
    for sink, times in sinks.items():
        for kind, label in (("speak", "speak a short prompt (espeak-ng)"), ("wav", "play a ready WAV")):
            values = times[kind]
            out.append(f"| {sink} | {label} | {len(values)} | {_median(values):.1f} | {_p95(values):.1f} |")
    out += ["", "espeak-ng runs in the process (libespeak-ng from the espeakng-loader wheel) and its first chunk",
            "is ready in well under a millisecond; with aplay the time is mostly starting the aplay process,",
            "for both rows. The sample counted is the first one handed to the sink (aplay's stdin); the",
            "device's own buffer (aplay `--buffer-time`, 200 ms at most) comes after it. espeak-ng begins",
            f"each utterance with {results.get('leading_ms', 0):.0f} ms of silence; the player drops it (keeping 20 ms),",
            "so the first sample counted is the start of the first word."]
    kiosk = {name: times["kiosk"] for name, times in sinks.items() if times.get("kiosk")}
    if kiosk:
        out += ["", *_kiosk_lines(kiosk)]
    out += ["", END]
    return out


def _kiosk_lines(kiosk: dict[str, dict]) -> list[str]:
    """The kiosk's own figures: the table, what a tap and a key are made of, what is left out."""
    some = next(iter(kiosk.values()))
    out = ["Through the kiosk itself: a real `KioskApp` on Welcome in a headless window drawn by",
           f"{some['renderer']}, its real store and file printer, driven as the UI tests drive it",
           "(`tests/support/ui_driver.py`): Kivy's own touch pipeline and key events, and frames at the kiosk's",
           "pace while it waits. Each is timed from the dispatch of the finger down or the key to the first",
           "sample reaching the app's own player's sink, which is checked to belong to the first utterance",
           "the action queued; the player is stopped and silent before each. A tap on \"Dengarkan\" with voice",
           "guidance off, the Down key with it on, and `play_pcm()` of the ready WAV file through the same",
           f"player, alternating, {len(some['wav'])} of each after {WARM_UP_ROUNDS} rounds of warm-up, in the same run as above:",
           "", "| what | sink | runs | median ms | p95 ms | against the WAV (median, p95) | goal |",
           "|---|---|---|---|---|---|---|"]
    rows = (("tap", "kiosk: tap \"Dengarkan\" -> first sample (Welcome read from the top)"),
            ("key", "kiosk: Down key, voice guidance on -> first sample (the next control named)"),
            ("wav", "baseline: `play_pcm()` of a ready WAV, the same player"))
    for kind, label in rows:
        for sink, times in kiosk.items():
            base_median, base_p95 = _median(times["wav"]), _p95(times["wav"])
            values = times[kind]
            median, p95 = _median(values), _p95(values)
            if kind == "wav":
                ratio, goal = "1x", "-"
            else:
                ratio = f"{median / base_median:.1f}x, {p95 / base_p95:.1f}x"
                goal = "p95 under 300 ms: " + ("met" if p95 < 300 else "**missed**")
            out.append(f"| {label} | {sink} | {len(values)} | {median:.1f} | {p95:.1f} | {ratio} | {goal} |")
    parts = (("tap: the finger down handled", "tap_down"), ("tap: the frame between down and lift", "tap_frame"),
             ("tap: the lift handled (`app.listen()`: Welcome's words queued)", "tap_release"),
             ("tap: the player, from there to the first sample", "tap_player"),
             ("key: handled (the ring moves, the control's words queued)", "key_down"),
             ("key: the player, from there to the first sample", "key_player"))
    out += ["", "Where a tap's and a key's time goes (each part's own median, ms):", "",
            "| part | " + " | ".join(kiosk) + " |", "|---|" + "---|" * len(kiosk)]
    out += [f"| {label} | " + " | ".join(f"{_median(t[name]):.1f}" for t in kiosk.values()) + " |"
            for label, name in parts]
    lifts = [[release + player for release, player in zip(t["tap_release"], t["tap_player"])] for t in kiosk.values()]
    out.append("| tap from the lift alone: median, p95 | "
               + " | ".join(f"{_median(lift):.1f}, {_p95(lift):.1f}" for lift in lifts) + " |")
    active, idle = some["active_fps"], some["idle_fps"]
    out += ["", "What a tap adds to the player's own floor (the WAV rows, the UI thread running beside it) is",
            "Kivy's dispatch of the touch, the frame drawn between finger down and lift (one, as the UI tests",
            "tap; a real finger rests longer, and the button acts on the lift) and `app.listen()` gathering",
            "Welcome's words; a key adds the ring's move and the control's words. Not in these figures: the",
            "wait for the frame that reads the touch or the key from SDL (input is read once a frame: up to",
            f"{1000 / active:.0f} ms at the kiosk's {active} frames a second, up to {1000 / idle:.0f} ms on a "
            "Welcome left alone, which",
            f"drops to `idle_fps` ({idle:g}) 3 s after the last touch), and the sound device's buffer after the",
            "first sample (aplay: 200 ms at most, above). Neither the tap guard (touches within 0.4 s of a",
            "screen change act on nothing) nor the two frames a new screen waits before it is read",
            "(`KioskApp._shown_changed`) is in them: \"Dengarkan\" and the ring speak on the screen showing."]
    return out


def main() -> int:
    from benchmarks.common import machine, write_section

    results = measure()
    section = lines(results, f"measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, "
                             f"load average {os.getloadavg()[2]:.1f} over the last 15 minutes")
    write_section(section, START, END)
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["kiosk"]:  # the child of measure_kiosk()
        print(KIOSK_MARK + json.dumps(kiosk_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))), flush=True)
        raise SystemExit(0)
    raise SystemExit(main())
