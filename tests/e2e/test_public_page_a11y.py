"""The public status page a receipt's QR code opens, checked by axe-core in a real Chromium
(tests/support/axe.py), in Bahasa Indonesia and English: a report found, one answered
(with the objection and rating forms, and after a rating is sent), a confidential one, an
unknown number and a mistyped one. No finding of any impact may remain: a screen reader
user lands in the page's <main> and finds the language link in its own landmark."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.axe import axe_violations
from tests.support.browser import Chromium
from tests.support.central import central_cli, report, running_central, send
from tests.support.officer_browser import Officer

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "a11y"


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """A central with a report received, one answered and one answered but confidential."""
    url = f"sqlite:///{tmp_path_factory.mktemp('public-a11y') / 'central.sqlite3'}"
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        received = report(title="Usul taman baca", kind="aspirasi")
        answered = report(title="Lampu jalan mati <b>segera</b>", agency_code="DINKES")
        confidential = report(title="Pungutan di loket", agency_code="DINKES", confidential=True)
        send(base, token, received, answered, confidential)
        for tid in (answered["tracking_id"], confidential["tracking_id"]):
            for action, *extra in (("verify",), ("forward", "--agency", "DINKES"), ("start",),
                                   ("answer", "--reply", "Lampu sudah diganti & dinyalakan.")):
                assert central_cli(url, "report", tid, action, "--actor", "Rina Admin", *extra).returncode == 0
        yield base, received["tracking_id"], answered["tracking_id"], confidential["tracking_id"]


def _landmarks(browser: Chromium) -> dict:
    """Where a screen reader's landmark list leads: one <main> holding the heading, and
    whether any text of the page lies outside every landmark."""
    return json.loads(browser.evaluate("""JSON.stringify({
        mains: document.querySelectorAll('main').length,
        h1InMain: !!document.querySelector('main h1'),
        outside: [...document.body.childNodes].filter(n => !(n.nodeType === 1 && n.matches('main, nav, header, footer'))
                     && n.textContent.trim()).map(n => n.textContent.trim().slice(0, 40)),
    })"""))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_public_page_has_no_accessibility_finding_at_any_level(central, lang):
    """GIVEN the public page of a found, an answered, a confidential, an unknown and a
    mistyped report, and the page after a rating is sent WHEN axe-core checks each THEN it
    finds nothing, whatever the impact; the page's content is in one <main> with its
    heading, the language link in a landmark of its own, and the CSP let nothing be blocked."""
    base, received, answered, confidential = central
    pages = {"status-received": received, "status-answered": answered, "status-confidential": confidential,
             "status-unknown": "MT01-00000-00000", "status-mistyped": "MT01-0000"}
    findings, shapes = {}, {}
    with Chromium() as browser:
        visitor = Officer(browser, ARTIFACTS)
        visitor.size(1366, 768)
        for name, tid in pages.items():
            visitor.open(f"{base}/status/{tid}?lang={lang}")
            assert browser.evaluate("document.documentElement.lang") == lang
            findings[name], shapes[name] = axe_violations(browser), _landmarks(browser)
        # A rating, sent as a citizen sends it: the page then says it was recorded.
        visitor.open(f"{base}/status/{answered}?lang={lang}")
        browser.evaluate("document.querySelector('input[name=score][value=\"4\"]').click()")
        visitor.click("form[action$='/rating'] button[type=submit]")
        assert browser.evaluate("document.querySelector('main [role=status]') !== null")
        findings["status-rated"], shapes["status-rated"] = axe_violations(browser), _landmarks(browser)
        visitor.shot(f"public-status-rated-{lang}")
        visitor.open(f"{base}/status/{received}?lang={lang}")  # the last page's CSP reports are collected too
        assert visitor.violations == [], visitor.violations

        # The check itself: text outside every landmark is a finding (moderate) it reports.
        browser.evaluate("document.body.insertAdjacentHTML('beforeend', '<p>di luar</p>')")
        assert "region" in {v["id"] for v in axe_violations(browser)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-public-{lang}.json").write_text(json.dumps(findings, indent=1, ensure_ascii=False),
                                                       encoding="utf-8")
    assert {page: found for page, found in findings.items() if found} == {}
    assert all(shape == {"mains": 1, "h1InMain": True, "outside": []} for shape in shapes.values()), shapes
