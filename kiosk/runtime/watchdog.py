"""systemd's notify protocol for ``kiosk run``: READY, WATCHDOG and STATUS lines.

Under the unit in ``deploy/lapor-kiosk.service`` (``Type=notify``, ``WatchdogSec=``)
systemd hands the kiosk a socket (``NOTIFY_SOCKET``) and the watchdog period
(``WATCHDOG_USEC``). The kiosk says READY=1 once Welcome's first frame is on screen,
then WATCHDOG=1 every half period, from a callback of the UI's own clock: if the UI
loop hangs, the pings stop and systemd kills and restarts the kiosk. A thread of its
own would keep pinging for a frozen screen, which is the failure worth catching.
Outside systemd (``make run``, the tests) nothing is sent and nothing is scheduled.

No Kivy here: the app passes its clock's ``schedule_interval`` in.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)


def watchdog_interval_s(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of ``WATCHDOG_USEC``), or None when
    systemd runs no watchdog for this process."""
    environ = os.environ if environ is None else environ
    if "NOTIFY_SOCKET" not in environ:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner and owner != str(os.getpid() if pid is None else pid):
        return None  # meant for another process (e.g. the one that started us)
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2 / 1_000_000 if usec > 0 else None


def status_line(app: Any) -> str:
    """What ``systemctl status lapor-kiosk`` shows: the state a technician cares about.
    Numbers and fixed words only (never a report's content)."""
    if getattr(app, "out_of_service", False):
        return "out of service: the database cannot be opened (see the log)"
    if not getattr(app, "ready", False):
        return "starting"
    waiting = int(getattr(app, "waiting", 0))
    if getattr(app, "no_room", False):
        return f"not taking reports: no room on the data disk; {waiting} waiting to send"
    return f"ready; {waiting} waiting to send"


class SystemdNotifier:
    """Sends notify lines to systemd when it is listening (``NOTIFY_SOCKET``); else nothing."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        self.enabled = bool(environ.get("NOTIFY_SOCKET"))
        self._sender = None
        if self.enabled:
            import sdnotify  # connects to NOTIFY_SOCKET from the process environment

            self._sender = sdnotify.SystemdNotifier()
            if self._sender.socket is None:
                log.warning("NOTIFY_SOCKET is set but cannot be reached; systemd will not hear from the kiosk")
                self.enabled = False

    def notify(self, line: str) -> None:
        if self.enabled:
            self._sender.notify(line)


class UiWatchdog:
    """READY=1 after the first frame, then WATCHDOG=1 and any new STATUS= from the UI clock."""

    def __init__(self, notifier: SystemdNotifier, interval_s: float | None, status: Callable[[], str]):
        self.notifier = notifier
        self.interval_s = interval_s
        self.status = status
        self._last_status: str | None = None
        self._event = None

    def start(self, schedule_interval: Callable[[Callable[[float], None], float], Any]) -> None:
        """Say READY=1 and schedule the pings on the UI clock (``Clock.schedule_interval``)."""
        if not self.notifier.enabled:
            return
        self._last_status = self.status()
        self.notifier.notify(f"READY=1\nSTATUS={self._last_status}")
        if self.interval_s:
            self._event = schedule_interval(self._ping, self.interval_s)

    def _ping(self, _dt: float = 0.0) -> None:
        """Runs on the UI thread: proof that the UI loop is turning."""
        status = self.status()
        if status != self._last_status:
            self._last_status = status
            self.notifier.notify(f"WATCHDOG=1\nSTATUS={status}")
        else:
            self.notifier.notify("WATCHDOG=1")

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.notifier.notify("STOPPING=1")


def start_on_ui_clock(app: Any, schedule_interval: Callable, environ: Mapping[str, str] | None = None) -> UiWatchdog:
    """The kiosk app's hook (called once Welcome's first frame is drawn): READY=1 now,
    WATCHDOG=1 from ``schedule_interval`` (the UI clock), STOPPING=1 when the app stops."""
    watchdog = UiWatchdog(SystemdNotifier(environ), watchdog_interval_s(environ), lambda: status_line(app))
    watchdog.start(schedule_interval)
    if watchdog.notifier.enabled:
        app.bind(on_stop=lambda *_: watchdog.stop())
    return watchdog
