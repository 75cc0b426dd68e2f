"""Debian's headless Chromium driven over the DevTools protocol, for pages that must hold up
in a real browser (the public status page: its links, its Content-Security-Policy).

No driver library: Chromium's ``--remote-debugging-pipe`` reads commands on fd 3 and
writes answers and events on fd 4, each a JSON object ended by a NUL byte.
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
from typing import Any, Callable

#: How long one answer or event may take before the test fails (a bound, not a pace).
PATIENCE_S = 60


def _high(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)
    os.close(fd)
    return moved


class Chromium:
    """One headless browser with one page; ``events`` keeps every event seen, in order."""

    def __init__(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary, "Chromium is missing: `make test` installs Debian's chromium package"
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        # Far above 3 and 4, so that putting one end on 3 cannot overwrite the other.
        to_browser_r, self._to_browser, self._from_browser, from_browser_w = (
            _high(fd) for fd in (*os.pipe(), *os.pipe()))

        def pipes_on_3_and_4():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self._proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=pipes_on_3_and_4, close_fds=False)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Log", "Runtime"):
            self.page(f"{domain}.enable")

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], PATIENCE_S)
            assert ready, "Chromium did not answer"
            chunk = os.read(self._from_browser, 1 << 16)
            assert chunk, "Chromium closed its DevTools pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                assert "error" not in answer, (method, answer["error"])
                return answer["result"]
            self.events.append(answer)

    def page(self, method: str, **params) -> dict[str, Any]:
        """A command to the page (not the browser)."""
        return self.call(method, self._session, **params)

    def wait_for(self, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event, already seen or still to come, for which ``found`` is true."""
        for event in self.events:
            if found(event):
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if found(event):
                return event

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools is not bound by its CSP)."""
        return self.page("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait until the page has loaded."""
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_for(lambda e: e.get("method") == "Page.loadEventFired")

    def click(self, x: float, y: float) -> None:
        """A real left click, as a finger or a mouse gives it."""
        for kind in ("mousePressed", "mouseReleased"):
            self.page("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (AssertionError, OSError):
            self._proc.kill()
        self._proc.wait(timeout=PATIENCE_S)
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
