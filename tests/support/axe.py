"""axe-core, the accessibility checker (from npm: `make test` installs it into tests/.axe/,
never into the product), run inside a real Chromium (tests/support/browser.py) on the page
it shows now."""
from __future__ import annotations

from pathlib import Path

from tests.support.browser import Chromium

AXE = Path(__file__).resolve().parents[1] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(browser: Chromium) -> list[dict]:
    """What axe-core finds on the page as it is now, every impact level: each rule's id,
    impact, help and the first five elements it names. DevTools injects axe (the page's
    Content-Security-Policy allows no script of its own)."""
    assert AXE.is_file(), "axe-core is missing: `make test` installs it into tests/.axe/ (npm)"
    if not browser.evaluate("typeof axe !== 'undefined'"):
        browser.page("Runtime.evaluate", expression=AXE.read_text(encoding="utf-8"))
    return browser.page("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=(
        "axe.run(document).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"))["result"]["value"]
