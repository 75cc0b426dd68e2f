"""An answered report on a kiosk that cannot reach its central, for the tests of the status
screen: the office's reply (its last known status), the kiosk's environment, and the
citizen's steps to see it.

    from tests.support.answered import offline_env  # noqa: F401 - a fixture

    tracking_id = answered_report(offline_env, clock)
    open_status(kiosk, "en", tracking_id)   # the keypad, Check: the reply is shown
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest

#: The office's reply (long enough to wrap on the status screen).
REPLY = "Loket tambahan dibuka mulai Senin, pukul 08.00 sampai 14.00 WIB, di lantai dua."


@contextlib.contextmanager
def offline_kiosk(tmp_path, clock, extra_config: str = "") -> Iterator:
    """A kiosk (MT01) whose central never answers (a closed port), with a status page
    configured; ``extra_config``: more lines of its TOML config."""
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env

    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\ncentral_url = "http://127.0.0.1:9"\n'
        f'central_token = "t"\nstatus_base_url = "https://lapor.example.go.id/status"\n{extra_config}',
        encoding="utf-8")
    env = build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic)
    try:
        yield env
    finally:
        env.close()


@pytest.fixture
def offline_env(tmp_path, clock):
    """:func:`offline_kiosk` as a fixture."""
    with offline_kiosk(tmp_path, clock) as env:
        yield env


def answered_status(tracking_id: str, now: dt.datetime, *, days_ago: float = 1, reply: str = REPLY,
                    lapor_number: str | None = None):
    """The report as the central tells it: received, verified, forwarded to DINKES, in
    progress, and answered with ``reply`` ``days_ago`` days before ``now``; with
    ``lapor_number``, LAPOR!'s number once the central forwarded it there."""
    from kiosk.kernel.wire import StatusEvent, StatusOut

    answered = now - dt.timedelta(days=days_ago)
    at = answered - dt.timedelta(days=3)
    return StatusOut(tracking_id=tracking_id, status="answered", kind="pengaduan", category_code="KESEHATAN",
                     confidential=False, agency_code="DINKES", title=None, received_at=at,
                     lapor_number=lapor_number, events=[
                         StatusEvent(status="received", at=at),
                         StatusEvent(status="verified", at=at + dt.timedelta(hours=5)),
                         StatusEvent(status="forwarded", at=at + dt.timedelta(days=1), agency_code="DINKES"),
                         StatusEvent(status="in_progress", at=at + dt.timedelta(days=2), agency_code="DINKES"),
                         StatusEvent(status="answered", at=answered, public_reply=reply, agency_code="DINKES")])


def answered_report(env, clock, *, days_ago: float = 1, lapor_number: str | None = None) -> str:
    """A report saved on this kiosk whose last known status is answered ``days_ago`` days
    ago (more than 10 working days: the time to object is over), with ``lapor_number``
    when given; its Tracking ID."""
    from kiosk.core.status_lookup import remember_remote_status
    from tests.support.kiosk_ui import saved_report

    tracking_id = saved_report(env)
    remember_remote_status(env.store, tracking_id, answered_status(tracking_id, clock.now(), days_ago=days_ago,
                                                                   lapor_number=lapor_number), clock.now())
    return tracking_id


def check_number(kiosk, tracking_id: str) -> None:
    """From Welcome: "Cek Status", the number on the keypad, "Cek"; waits for the answer."""
    from tests.support.kiosk_ui import type_on_keypad

    kiosk.tap(kiosk.screen.ids.status)
    assert kiosk.current == "status"
    type_on_keypad(kiosk, tracking_id)
    kiosk.tap(kiosk.screen.ids.check)
    kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the lookup")


def open_status(kiosk, lang: str, tracking_id: str) -> None:
    """Welcome in ``lang``, then :func:`check_number`: the answered report's reply is shown."""
    if lang == "en":
        kiosk.tap(kiosk.screen.ids.lang_en)
    check_number(kiosk, tracking_id)
    assert kiosk.screen.result_kind == "found" and kiosk.screen.reply == REPLY
