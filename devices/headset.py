"""Whether a headset is plugged into the kiosk's jack (it switches speech mode on).

A sound card with jack detection has a control for it: on Intel HDA codecs a boolean
control of interface CARD called "Headphone Jack" (or "Front Headphone Jack", "Headset
Mic Jack"); ``amixer -c N controls`` lists them and ``amixer -c N cget
iface=CARD,name='Headphone Jack'`` reads it (``: values=on``). The same codecs mute the
speaker by themselves while headphones are in ("Auto-Mute Mode" Enabled), which is the
private listening a citizen expects; ``kiosk doctor`` says whether it is on.

``headset_jack`` names the source: ``alsa:CARD:CONTROL`` (read through amixer from
alsa-utils, which does not need the input group that evdev's SW_HEADPHONE_INSERT does), or
a file path holding ``1`` or ``0`` (tests, and a kiosk whose jack is read some other way).
:class:`JackWatch` polls it on its own thread, twice a second, and calls back on a change;
a source it cannot read is "unknown", said once in the log, never an exception.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.5
_VALUES = re.compile(r"^\s*:\s*values=(on|off)\s*$", re.M)
_AUTO_MUTE = re.compile(r"Item0: '([^']*)'")


class JackError(Exception):
    """The jack cannot be read; the message is for the technician."""


def parse_spec(spec: str) -> tuple[str, str, str]:
    """``("alsa", card, control)`` or ``("file", path, "")``; raises JackError."""
    spec = (spec or "").strip()
    if spec.startswith("alsa:"):
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise JackError(f"headset_jack {spec!r}: write alsa:CARD:CONTROL, e.g. alsa:0:Headphone Jack")
        return "alsa", parts[1], parts[2]
    if spec:
        return "file", spec, ""
    raise JackError("headset_jack is empty")


def read_jack(spec: str, *, amixer: str = "amixer") -> bool:
    """True when a headset is plugged; raises JackError when it cannot be told."""
    kind, where, control = parse_spec(spec)
    if kind == "file":
        try:
            value = Path(where).read_text(encoding="ascii").strip()
        except OSError as exc:
            raise JackError(f"cannot read {where}: {exc.strerror or exc}") from None
        if value not in ("0", "1"):
            raise JackError(f"{where} holds {value[:10]!r}, not 1 or 0")
        return value == "1"
    if shutil.which(amixer) is None:
        raise JackError("amixer not found (install alsa-utils)")
    try:
        out = subprocess.run([amixer, "-c", where, "cget", f"iface=CARD,name={control}"],
                             capture_output=True, text=True, timeout=3)
    except subprocess.TimeoutExpired:
        raise JackError("amixer did not answer") from None
    found = _VALUES.search(out.stdout)
    if out.returncode != 0 or not found:
        last = (out.stderr.strip().splitlines() or ["no value"])[-1]
        raise JackError(f"card {where} control {control!r}: {last}")
    return found.group(1) == "on"


def auto_mute(card: str, *, amixer: str = "amixer") -> str | None:
    """The card's "Auto-Mute Mode" (Enabled/Disabled), None when it has none."""
    if shutil.which(amixer) is None:
        return None
    try:
        out = subprocess.run([amixer, "-c", card, "sget", "Auto-Mute Mode"], capture_output=True, text=True, timeout=3)
    except subprocess.TimeoutExpired:
        return None
    found = _AUTO_MUTE.search(out.stdout)
    return found.group(1) if out.returncode == 0 and found else None


class JackWatch:
    """Polls the jack off the UI thread; ``on_change(plugged)`` is called from that thread
    on each change (and once at the start when a headset is already in)."""

    def __init__(self, spec: str, on_change: Callable[[bool], None], *, every_s: float = POLL_S,
                 amixer: str = "amixer"):
        self.spec, self.on_change, self.every_s, self.amixer = spec, on_change, every_s, amixer
        self.plugged: bool | None = None
        self.problem = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="headset-jack", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poll(self) -> None:
        """One reading (the thread's loop; tests may call it)."""
        try:
            plugged = read_jack(self.spec, amixer=self.amixer)
        except JackError as exc:
            if str(exc) != self.problem:
                log.warning("headset jack: %s", exc)
                self.problem = str(exc)
            return
        self.problem = ""
        if plugged != self.plugged:
            first = self.plugged is None
            self.plugged = plugged
            if plugged or not first:
                log.info("headset %s", "plugged" if plugged else "unplugged")
                self.on_change(plugged)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the watch must not die of a callback's fault
                log.exception("headset jack watch")
            self._stop.wait(self.every_s)
