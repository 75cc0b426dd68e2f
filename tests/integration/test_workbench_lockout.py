"""Failed logins on the workbench: recorded in the database per account and per client
address; five in a row lock the account for 15 minutes, and the page says so the same way
whether the name exists or not. A central of its own: these tests spend this address's
failures."""
from __future__ import annotations

import pytest

from tests.support.central import query, running_central
from tests.support.workbench import PASSWORD, add_officer, log_in, officer_cli, password_step

LOCKED_WORDS = "Terlalu banyak percobaan gagal"


@pytest.fixture(scope="module")
def lock_central(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('workbench-lock') / 'central.sqlite3'}"
    with running_central(url) as base:
        yield base, url


def test_five_failures_lock_the_account_and_the_page_does_not_tell_which_names_exist(lock_central):
    """GIVEN an account WHEN its password is wrong five times THEN the fifth answer and any
    later one, even with the right password, say it is locked; a name that is no account
    answers the same words after five tries; the audit log has the failures and the lock."""
    base, url = lock_central
    add_officer(url, "petugas-kunci", "viewer")
    answers = [password_step(base, "petugas-kunci", "bukan kata sandinya")[1] for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert "Nama atau kata sandi salah" in answers[0].text and LOCKED_WORDS in answers[4].text
    right = password_step(base, "petugas-kunci")[1]
    assert right.status_code == 429 and LOCKED_WORDS in right.text and "wb_session" not in right.headers.get("Set-Cookie", "")
    ghosts = [password_step(base, "tidak-ada-orangnya", "apa saja")[1] for _ in range(6)]
    assert [a.status_code for a in ghosts] == [401, 401, 401, 401, 429, 429]

    def words(page: str) -> str:
        return page.split("<main>")[1].split('name="csrf"')[0]
    assert words(ghosts[5].text) == words(right.text) and words(ghosts[0].text) == words(answers[0].text)
    locked_until = query(url, "SELECT locked_until FROM officers WHERE name = 'petugas-kunci'")[0][0]
    assert locked_until is not None
    events = query(url, "SELECT event FROM audit_log WHERE officer_name = 'petugas-kunci' ORDER BY id")
    assert events == [("login_failed",)] * 4 + [("login_locked",)] * 2
    assert query(url, "SELECT count(*) FROM login_failures WHERE address = '127.0.0.1'") == [(10,)]
    # Typed names are never stored as typed (a password typed into the name field).
    assert "tidak-ada-orangnya" not in str(query(url, "SELECT * FROM login_failures"))
    # The technician's way out: a new password unlocks.
    assert officer_cli(url, "password", "petugas-kunci", password=PASSWORD + "2").returncode == 0
    log_in(base, "petugas-kunci", password=PASSWORD + "2")


def test_many_failures_from_one_address_make_it_wait(lock_central):
    """Twenty failures from one address within 15 minutes, over any names: from then on that
    address is refused even with a right password (spraying one password over many names)."""
    base, url = lock_central
    add_officer(url, "petugas-lain", "viewer")
    already = query(url, "SELECT count(*) FROM login_failures WHERE address = '127.0.0.1'")[0][0]
    for n in range(20 - already):
        assert password_step(base, f"nama-{n}", "tebakan")[1].status_code == 401
    answer = password_step(base, "petugas-lain")[1]
    assert answer.status_code == 429 and LOCKED_WORDS in answer.text
