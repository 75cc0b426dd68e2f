"""What the status lookup says when it cannot ask the central, and the office's reply first
(issue 12: "Status lookups that disappoint the receipt holder")."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.status_flow import StatusLookup
from kiosk.core.status_lookup import RETRY_AFTER_MIN, StatusAnswer, look_up, remember_remote_status
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.tracking_id import new_tracking_id
from kiosk.kernel.wire import StatusEvent, StatusOut

#: Nothing listens on the discard port: the kiosk is "offline" at once.
DEAD_CENTRAL = "http://127.0.0.1:9"
STATUS_PAGE = "https://lapor.baritoutarakab.go.id/status"


@pytest.fixture
def make_env(config_file, clock):
    """An environment of this kiosk (MT01) with some settings changed; closed after the test."""
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env

    made = []

    def make(**overrides):
        env = build_env(load_config(config_file, environ={}, overrides=overrides), now=clock.now,
                        monotonic=clock.monotonic)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_another_kiosks_receipt_on_a_kiosk_without_central_says_why_and_where_else(make_env, lang):
    """GIVEN a valid receipt of kiosk MB10 WHEN it is checked at MT01, which has no central
    THEN the answer is not "not found here" but why it cannot check it, and the status page."""
    _ = gettext_for(lang)
    other = new_tracking_id("MB10")
    answer = look_up(other, env=make_env(status_base_url=STATUS_PAGE), language=lang)
    assert answer.kind == "offline_unknown"
    assert "MB10" in answer.heading
    assert answer.heading != _("No report with this number was found on this kiosk.")
    assert f"{STATUS_PAGE}/{other}" in answer.lines

    without_page = look_up(other, env=make_env(), language=lang)
    assert without_page.kind == "offline_unknown"
    assert without_page.lines == (_("Any LAPOR! kiosk that is online can check it, or ask the staff at the counter."),)


def test_this_kiosks_own_code_not_found_is_still_not_found(make_env):
    answer = look_up(new_tracking_id("MT01"), env=make_env(), language="en")
    assert answer.kind == "unknown" and answer.heading == "No report with this number was found on this kiosk."


@pytest.mark.parametrize("lang", ["id", "en"])
def test_offline_kiosk_says_when_to_try_again_and_where_else(make_env, lang, clock):
    """GIVEN a kiosk whose central does not answer WHEN another kiosk's receipt is checked
    THEN it says it cannot check it now, when to try again, and the status page; the
    number does not count as a wrong one (a citizen is never slowed for it)."""
    _ = gettext_for(lang)
    env = make_env(central_url=DEAD_CENTRAL, central_token="t", status_base_url=STATUS_PAGE)
    other = new_tracking_id("MB10")
    answer = look_up(other, env=env, language=lang)
    assert answer.kind == "offline_unknown"
    assert answer.heading == _("This kiosk is offline and cannot check this report right now.")
    assert _("Please try again in about {minutes} minutes.").format(minutes=RETRY_AFTER_MIN) in answer.lines
    assert f"{STATUS_PAGE}/{other}" in answer.lines
    lookup = StatusLookup(monotonic=clock.monotonic)
    for _round in range(5):
        lookup.answered(lookup.check(other), answer)
    assert lookup.seconds_to_wait() == 0


def _status_with_reply(tracking_id: str, reply: str) -> StatusOut:
    at = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.timezone.utc)
    return StatusOut(tracking_id=tracking_id, status="answered", kind="pengaduan", category_code="KESEHATAN",
                     confidential=False, agency_code="DINKES", title=None, received_at=at, events=[
                         StatusEvent(status="received", at=at),
                         StatusEvent(status="forwarded", at=at + dt.timedelta(days=1), agency_code="DINKES"),
                         StatusEvent(status="answered", at=at + dt.timedelta(days=2), public_reply=reply,
                                     agency_code="DINKES")])


def test_the_reply_comes_first_and_stays_on_the_slip(make_env, clock):
    """GIVEN this kiosk's report, answered by the office, and the kiosk offline WHEN it is
    checked THEN the answer carries the reply apart (the screen shows it first, large), its
    heading says who answered, the shown text does not repeat it, and the slip keeps it."""
    env = make_env(central_url=DEAD_CENTRAL, central_token="t")
    tracking_id = env.reports.submit(Draft(
        kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean puskesmas",
        description="Antrean lama.", incident_date=env.today(), kecamatan_code="LAHEI", language="en")).tracking_id
    reply = "Loket tambahan dibuka mulai Senin."
    remember_remote_status(env.store, tracking_id, _status_with_reply(tracking_id, reply), clock.now())
    answer = look_up(tracking_id, env=env, language="en")
    assert answer.kind == "local" and answer.own
    assert answer.reply == reply
    assert "Answered by Health Office" in answer.reply_heading
    assert reply not in answer.text
    lookup = StatusLookup(monotonic=clock.monotonic)
    lookup.answered(lookup.check(tracking_id), answer)
    assert any(reply in line for line in lookup.slip_lines())


def test_an_answer_without_reply_shows_all_its_lines():
    answer = StatusAnswer("found", "Report X", ("1 Desember 2026: Verified",))
    assert answer.reply == "" and answer.text == "Report X\n1 Desember 2026: Verified"
