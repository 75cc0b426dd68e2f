"""An officer at a real browser (Debian's headless Chromium over DevTools, tests/support/
browser.py): types into fields, clicks what is on the screen, picks from lists, signs in
with a password and a TOTP code, takes pictures; every Content-Security-Policy report of
every page seen is kept in ``violations``."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pyotp

from tests.support.browser import Chromium
from tests.support.workbench import PASSWORD

#: Where the workbench's pictures go unless an Officer is given another folder.
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "workbench"


class Officer:
    """A person at the browser: fills fields, clicks what is on the screen, takes pictures."""

    def __init__(self, browser: Chromium, artifacts: Path = ARTIFACTS):
        self.browser = browser
        self.artifacts = artifacts
        self.violations: list = []  # Content-Security-Policy reports of every page seen

    def _collect(self) -> None:
        self.violations += [e for e in self.browser.events if e.get("method") == "Log.entryAdded"
                            and "Content Security Policy" in e["params"]["entry"].get("text", "")]

    def open(self, url: str) -> None:
        self._collect()
        self.browser.open(url)

    def size(self, width: int, height: int, mobile: bool = False) -> None:
        self.browser.page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                          mobile=mobile)

    def type(self, selector: str, value: str) -> None:
        self.browser.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.browser.page("Input.insertText", text=value)

    def click(self, selector: str) -> None:
        """A real click in the middle of the element, then the page it leads to has loaded."""
        self.browser.evaluate(f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})")
        box = json.loads(self.browser.evaluate(
            f"JSON.stringify(document.querySelector({json.dumps(selector)}).getBoundingClientRect())"))
        self._collect()
        self.browser.events.clear()
        self.browser.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self.browser.wait_for(lambda e: e.get("method") == "Page.loadEventFired")

    def text(self) -> str:
        return self.browser.evaluate("document.body.innerText")

    def path(self) -> str:
        return self.browser.evaluate("location.pathname")

    def shot(self, name: str) -> Path:
        data = self.browser.page("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        return path


def choose(officer: Officer, selector: str, value: str) -> None:
    """Pick an option of a select, as a person choosing from the list does."""
    officer.browser.evaluate(f"(s => {{ s.focus(); s.value = {json.dumps(value)}; "
                             f"s.dispatchEvent(new Event('change', {{bubbles: true}})); }})"
                             f"(document.querySelector({json.dumps(selector)}))")


def log_in(officer: Officer, base: str, name: str, secret: str | None = None) -> None:
    """The login page, the password, and the code of the officer's authenticator when
    ``secret``; ends in the inbox."""
    officer.open(f"{base}/workbench/login")
    officer.type("#name", name)
    officer.type("#password", PASSWORD)
    officer.click("button[type=submit]")
    if secret is not None:
        officer.type("#code", pyotp.TOTP(secret).now())
        officer.click("button[type=submit]")
    assert officer.path() == "/workbench/"
