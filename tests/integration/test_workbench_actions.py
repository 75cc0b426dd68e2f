"""The report page's actions over real HTTP on a real central with a real PostgreSQL: every
lifecycle action by every role (allowed or refused), CSRF, stale forms, internal notes that
never reach the citizen, an agency's request to re-route, reply templates, "duplicate of",
and the officer API's tokens tied to the officer's role and agency."""
from __future__ import annotations

import dataclasses
import html
import re

import pytest
import requests

from kiosk.kernel.tracking_id import format_tracking_id, new_tracking_id
from tests.support.central import auth, central_cli, query, report, running_central, send
from tests.support.workbench import CSP, add_officer, csrf_of, log_in


@dataclasses.dataclass
class World:
    base: str
    url: str
    token: str  # the kiosk's
    browsers: dict[str, requests.Session]  # admin, dinkes, disdik, viewer
    api: dict[str, str]  # the same officers' API tokens

    def new(self, *steps: tuple[str, ...], **changes) -> str:
        """A report sent by the kiosk and moved by the CLI through ``steps``."""
        body = report(**changes)
        send(self.base, self.token, body)
        for action, *extra in steps:
            result = central_cli(self.url, "report", body["tracking_id"], action, "--actor", "CLI", *extra)
            assert result.returncode == 0, result.stderr
        return body["tracking_id"]

    def status(self, tid: str) -> tuple[str, str | None]:
        [(status, agency)] = query(self.url, "SELECT status, agency_code FROM reports WHERE tracking_id = :t", t=tid)
        return status, agency

    def public(self, tid: str) -> dict:
        """What a kiosk's status screen is given (the citizen's receipt, scanned at any kiosk)."""
        answer = requests.get(f"{self.base}/api/v1/reports/{tid}/status", headers=auth(self.token), timeout=30)
        assert answer.status_code == 200
        return answer.json()



@pytest.fixture(scope="module")
def world(tmp_path_factory, postgres_url) -> World:
    from tests.support.servers import fresh_database

    url = fresh_database(postgres_url, "actions")
    with running_central(url) as base:
        token = central_cli(url, "kiosk", "add", "MT01", "--location", "Mal Pelayanan Publik Muara Teweh").stdout.strip()
        secret = add_officer(url, "Rina Admin", "admin", totp=True)
        add_officer(url, "Budi Dinkes", "agency", "DINKES")
        add_officer(url, "Sari Disdik", "agency", "DISDIK")
        add_officer(url, "Pak Bupati", "viewer")
        browsers = {"admin": log_in(base, "Rina Admin", secret), "dinkes": log_in(base, "Budi Dinkes"),
                    "disdik": log_in(base, "Sari Disdik"), "viewer": log_in(base, "Pak Bupati")}
        names = {"admin": "Rina Admin", "dinkes": "Budi Dinkes", "disdik": "Sari Disdik", "viewer": "Pak Bupati"}
        api = {}
        for who, name in names.items():
            issued = central_cli(url, "officer", "token", name)
            assert issued.returncode == 0, issued.stderr
            api[who] = issued.stdout.strip()
        yield World(base, url, token, browsers, api)


NAMES = {"admin": "Rina Admin", "dinkes": "Budi Dinkes", "disdik": "Sari Disdik", "viewer": "Pak Bupati"}


def _page(world: World, who: str, tid: str, **query_params) -> requests.Response:
    answer = world.browsers[who].get(f"{world.base}/workbench/reports/{tid}", params=query_params, timeout=30,
                                     allow_redirects=False)
    _headers(answer)
    return answer


def _post(world: World, who: str, path: str, **data) -> requests.Response:
    answer = world.browsers[who].post(f"{world.base}{path}", data=data, timeout=30, allow_redirects=False)
    _headers(answer)
    return answer


def _headers(answer: requests.Response) -> None:
    assert answer.headers["Content-Security-Policy"] == CSP
    assert answer.headers["Cache-Control"] == "no-store"


def _csrf(world: World, who: str) -> str:
    return csrf_of(world.browsers[who].get(f"{world.base}/workbench/", timeout=30).text)


def _act(world: World, who: str, tid: str, action: str, *, status: str | None = None, **fields) -> requests.Response:
    """Send the action's form as the page shows it (its status, the session's CSRF token)."""
    shown = status if status is not None else world.status(tid)[0]
    return _post(world, who, f"/workbench/reports/{tid}/act", csrf=_csrf(world, who), action=action, status=shown,
                 **fields)


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'name="do" value="([a-z_]+)"', html))


def _events(world: World, tid: str) -> list[tuple]:
    return query(world.url, "SELECT kind, status, actor, note, public_reply FROM report_events WHERE tracking_id = :t "
                            "ORDER BY id", t=tid)


# -- the buttons each role gets --------------------------------------------------------------
FORWARDED = (("verify",), ("forward", "--agency", "DINKES"))
IN_PROGRESS = FORWARDED + (("start",),)
ANSWERED = IN_PROGRESS + (("answer", "--reply", "Sudah kami tangani."),)


def test_each_role_sees_only_the_buttons_its_role_and_the_status_allow(world):
    received, verified, forwarded = world.new(), world.new(("verify",)), world.new(*FORWARDED)
    in_progress, answered = world.new(*IN_PROGRESS), world.new(*ANSWERED)
    admin_sees = {received: {"verify", "reject", "postpone", "archive", "duplicate", "note"},
                  verified: {"forward", "reject", "postpone", "archive", "duplicate", "note"},
                  forwarded: {"reroute", "postpone", "duplicate", "note"},
                  in_progress: {"reroute", "postpone", "duplicate", "note"},
                  answered: {"close", "note"}}
    for tid, expected in admin_sees.items():
        assert _buttons(_page(world, "admin", tid).text) == expected, world.status(tid)
    agency_sees = {forwarded: {"start", "answer", "reroute_request", "note"},
                   in_progress: {"answer", "reroute_request", "note"}, answered: {"note"}}
    for tid, expected in agency_sees.items():
        assert _buttons(_page(world, "dinkes", tid).text) == expected
    for tid in admin_sees:
        page = _page(world, "viewer", tid)
        assert page.status_code == 200 and _buttons(page.text) == set() and "<form method=\"post\" action=\"/workbench/reports" not in page.text
    english = _page(world, "admin", received, lang="en").text
    assert ">Verify</button>" in english and "Internal note (optional, never shown to the citizen)" in english
    _page(world, "admin", received, lang="id")
    indonesian = _page(world, "admin", received).text
    assert ">Verifikasi</button>" in indonesian and ">Tolak</button>" in indonesian
    forward_form = _page(world, "admin", verified).text
    assert "Dinas Kesehatan (Dinkes)" in forward_form and "Rumah Sakit Umum Daerah (RSUD) Muara Teweh" in forward_form


# -- every action by every role --------------------------------------------------------------
#: action: (the steps to a status it applies from, the form's fields, the role that may)
CASES = {
    "verify": ((), {}, "admin"),
    "forward": ((("verify",),), {"agency": "DINKES"}, "admin"),
    "reroute": (FORWARDED, {"agency": "DISDIK", "note": "Sekolah, bukan puskesmas"}, "admin"),
    "reject": ((), {"reply": "Bukan kewenangan pemerintah kabupaten."}, "admin"),
    "postpone": ((("verify",),), {"note": "Menunggu data"}, "admin"),
    "archive": ((), {}, "admin"),
    "close": (ANSWERED, {}, "admin"),
    "start": (FORWARDED, {}, "dinkes"),
    "answer": (IN_PROGRESS, {"reply": "Obat sudah tersedia lagi sejak Senin."}, "dinkes"),
}


@pytest.mark.parametrize("action", list(CASES))
def test_every_action_by_every_role_is_allowed_or_refused(world, action):
    """GIVEN a report in a status the action applies to WHEN the viewer, the other role, an
    officer of another agency and then the right role send the action's form THEN only the
    last one moves it: its event names the officer, the audit log has the action; the
    others get a refusal in Indonesian and nothing changes."""
    steps, fields, allowed = CASES[action]
    tid = world.new(*steps)
    before, events = world.status(tid), _events(world, tid)
    for who in ("viewer", "dinkes" if allowed == "admin" else "admin", "disdik"):
        refused = _act(world, who, tid, action, **fields)
        if who == "disdik" and allowed != "admin":  # not theirs: the same words as for a report gone elsewhere
            assert refused.status_code == 409 and "tidak lagi ada di instansi Anda" in refused.text
        else:
            assert refused.status_code == 403 and "Peran Anda tidak boleh" in refused.text, who
        assert world.status(tid) == before and _events(world, tid) == events
    done = _act(world, allowed, tid, action, **fields)
    assert done.status_code == 303 and done.headers["Location"] == f"/workbench/reports/{tid}?done=action"
    from central.lifecycle import ACTIONS

    assert world.status(tid)[0] == ACTIONS[action].to
    kind, status, actor, note, reply = _events(world, tid)[-1]
    assert (kind, status, actor) == ("status", ACTIONS[action].to, NAMES[allowed])
    assert note == fields.get("note", "") and reply == fields.get("reply")
    audit = query(world.url, "SELECT officer_name, event FROM audit_log WHERE tracking_id = :t", t=tid)
    assert audit == [(NAMES[allowed], f"report_{action}")]
    shown = world.browsers[allowed].get(f"{world.base}{done.headers['Location']}", timeout=30).text
    assert "Selesai: status laporan sudah diperbarui." in shown


# -- CSRF, stale forms, missing fields ------------------------------------------------------
def test_a_post_without_the_right_csrf_token_changes_nothing(world):
    tid, original = world.new(*FORWARDED), world.new()
    before, events = world.status(tid), _events(world, tid)
    audit = query(world.url, "SELECT count(*) FROM audit_log")
    posts = [("admin", f"/workbench/reports/{tid}/act", {"action": "postpone", "status": "forwarded"}),
             ("dinkes", f"/workbench/reports/{tid}/act", {"action": "start", "status": "forwarded"}),
             ("dinkes", f"/workbench/reports/{tid}/note", {"note": "catatan"}),
             ("dinkes", f"/workbench/reports/{tid}/reroute-request", {"reason": "bukan kami", "status": "forwarded"}),
             ("admin", f"/workbench/reports/{tid}/duplicate", {"original": original, "status": "forwarded"}),
             ("admin", f"/workbench/reports/{tid}/unlink", {}),
             ("admin", "/workbench/templates/new", {"title": "T", "text": "isi"}),
             ("admin", "/workbench/templates/1", {"title": "T", "text": "isi"}),
             ("admin", "/workbench/templates/1/delete", {})]
    for who, path, data in posts:
        for csrf in ({}, {"csrf": ""}, {"csrf": _csrf(world, who) + "x"}, {"csrf": _csrf(world, "viewer")}):
            answer = _post(world, who, path, **data, **csrf)
            assert answer.status_code == 403 and "Formulir ini kedaluwarsa" in answer.text, (path, csrf)
    assert world.status(tid) == before and _events(world, tid) == events
    assert query(world.url, "SELECT count(*) FROM audit_log") == audit
    visitor = requests.Session()  # and without a session: the login page
    for _who, path, data in posts:
        answer = visitor.post(f"{world.base}{path}", data={**data, "csrf": "x"}, allow_redirects=False, timeout=30)
        assert answer.status_code == 303 and answer.headers["Location"] == "/workbench/login"


def test_a_stale_form_applies_nothing_and_says_so_in_the_officers_language(world):
    """GIVEN an admin's page of a received report and an agency officer's page of a
    forwarded one WHEN someone else moves each report and the old forms are sent THEN a
    409 page says what happened, in the officer's language, and nothing more is applied."""
    tid = world.new()
    shown = _page(world, "admin", tid)
    assert "verify" in _buttons(shown.text)
    assert central_cli(world.url, "report", tid, "reject", "--actor", "Admin Lain", "--reply", "Ditolak").returncode == 0
    events = _events(world, tid)
    stale = _act(world, "admin", tid, "verify", status="received")
    assert stale.status_code == 409 and "sudah diubah orang lain" in stale.text and "Tidak ada yang disimpan" in stale.text
    assert "Ditolak" in stale.text  # the page as it is now
    assert world.status(tid) == ("rejected", None) and _events(world, tid) == events
    world.browsers["admin"].get(f"{world.base}/workbench/?lang=en", timeout=30)
    try:
        stale = _act(world, "admin", tid, "archive", status="received")  # archive applies to rejected, too
        assert stale.status_code == 409 and "Someone else changed this report" in stale.text
        assert world.status(tid) == ("rejected", None)
    finally:
        world.browsers["admin"].get(f"{world.base}/workbench/?lang=id", timeout=30)
    moved = world.new(*FORWARDED)
    assert "start" in _buttons(_page(world, "dinkes", moved).text)
    assert central_cli(world.url, "report", moved, "reroute", "--agency", "DISDIK", "--actor", "Admin Lain",
                       "--note", "salah instansi").returncode == 0
    events = _events(world, moved)
    for path, data in ((f"/workbench/reports/{moved}/act", {"action": "start", "status": "forwarded"}),
                       (f"/workbench/reports/{moved}/reroute-request", {"reason": "x", "status": "forwarded"})):
        gone = _post(world, "dinkes", path, csrf=_csrf(world, "dinkes"), **data)
        assert gone.status_code == 409 and "tidak lagi ada di instansi Anda" in gone.text
    assert world.status(moved) == ("rerouted", "DISDIK") and _events(world, moved) == events
    assert _act(world, "disdik", moved, "start").status_code == 303  # the new agency has it now


def test_missing_or_wrong_fields_keep_what_was_typed(world):
    tid = world.new(*FORWARDED)
    cases = [("reroute", {"agency": "DISDIK", "note": "  "}, "Tulis alasannya."),
             ("reroute", {"agency": "DINKES", "note": "alasan yang diketik"}, "Laporan sudah ada di instansi ini"),
             ("reroute", {"note": "alasan yang diketik"}, "Pilih instansi."),
             ("reroute", {"agency": "NOPE", "note": "alasan yang diketik"}, "tidak dapat diterapkan")]
    for action, fields, words in cases:
        answer = _act(world, "admin", tid, action, **fields)
        assert answer.status_code == 400 and words in answer.text, words
        if fields["note"].strip():
            assert "alasan yang diketik</textarea>" in answer.text
    answer = _act(world, "dinkes", tid, "answer", reply="\r\n ")
    assert answer.status_code == 400 and "Tulis jawaban yang akan dibaca warga." in answer.text
    too_long = _act(world, "dinkes", tid, "answer", reply="x" * 4001)
    assert too_long.status_code == 400 and "terlalu panjang" in too_long.text
    assert world.status(tid) == ("forwarded", "DINKES") and len(_events(world, tid)) == 3


# -- internal notes and the request to re-route ----------------------------------------------
HOSTILE = "<script>alert('catatan')</script>\x1b[31m\u202e RAHASIA-{}"


def test_notes_and_reroute_requests_never_reach_the_citizen(world):
    """GIVEN a forwarded report WHEN the agency officer and an admin write internal notes and
    the agency asks to re-route it THEN the officers' page shows them (escaped), the status
    does not change, and neither the kiosks' status API nor the public page holds a word or
    an event of them; the admins see the request until they re-route."""
    tid = world.new(*FORWARDED)
    public_before = world.public(tid)
    for who, secret in (("dinkes", "CATATAN-DINKES"), ("admin", "CATATAN-ADMIN")):
        added = _post(world, who, f"/workbench/reports/{tid}/note", csrf=_csrf(world, who), note=HOSTILE.format(secret))
        assert added.status_code == 303
    asked = _post(world, "dinkes", f"/workbench/reports/{tid}/reroute-request", csrf=_csrf(world, "dinkes"),
                  status="forwarded", reason="Ini urusan sekolah, ALASAN-PINDAH")
    assert asked.status_code == 303 and asked.headers["Location"].endswith("done=reroute_request")
    assert world.status(tid) == ("forwarded", "DINKES")
    assert _post(world, "viewer", f"/workbench/reports/{tid}/note", csrf=_csrf(world, "viewer"), note="x").status_code == 403
    assert _post(world, "admin", f"/workbench/reports/{tid}/reroute-request", csrf=_csrf(world, "admin"),
                 status="forwarded", reason="x").status_code == 403
    assert _post(world, "disdik", f"/workbench/reports/{tid}/note", csrf=_csrf(world, "disdik"), note="x").status_code == 404
    admin_page = _page(world, "admin", tid).text
    assert "Instansi meminta laporan ini dipindahkan" in admin_page and "ALASAN-PINDAH" in admin_page
    assert "&lt;script&gt;alert(&#39;catatan&#39;)&lt;/script&gt;" in admin_page and "<script" not in admin_page
    assert "\x1b" not in admin_page and "\u202e" not in admin_page and "\ufffd[31m" in admin_page
    for secret in ("CATATAN-DINKES", "CATATAN-ADMIN"):
        assert secret in admin_page and secret in _page(world, "dinkes", tid).text and secret in _page(world, "viewer", tid).text
    assert "Instansi meminta laporan ini dipindahkan" not in _page(world, "dinkes", tid).text  # a banner for admins
    assert world.public(tid) == public_before
    public_page = requests.get(f"{world.base}/status/{tid}", timeout=30)
    assert public_page.status_code == 200
    for shown in (str(world.public(tid)), public_page.text):
        for secret in ("CATATAN", "ALASAN-PINDAH", "RAHASIA", "catatan"):
            assert secret not in shown
    assert [k for k, *_ in _events(world, tid)] == ["status"] * 3 + ["note", "note", "reroute_request"]
    assert query(world.url, "SELECT event FROM audit_log WHERE tracking_id = :t ORDER BY id", t=tid) == [
        ("note_added",), ("note_added",), ("reroute_requested",)]
    assert _act(world, "admin", tid, "reroute", agency="DISDIK", note="Sesuai permintaan Dinkes").status_code == 303
    assert "Instansi meminta laporan ini dipindahkan" not in _page(world, "admin", tid).text
    assert len(world.public(tid)["events"]) == len(public_before["events"]) + 1


# -- reply templates -------------------------------------------------------------------------
def test_admins_manage_templates_and_an_agency_officer_answers_with_one(world):
    def templates_page(who: str) -> requests.Response:
        answer = world.browsers[who].get(f"{world.base}/workbench/templates", timeout=30, allow_redirects=False)
        _headers(answer)
        return answer

    for who in ("dinkes", "viewer"):
        assert templates_page(who).status_code == 403
        assert _post(world, who, "/workbench/templates/new", csrf=_csrf(world, who), title="x", text="y").status_code == 403
    csrf = _csrf(world, "admin")
    refused = _post(world, "admin", "/workbench/templates/new", csrf=csrf, title="", text="isi yang diketik",
                    category="KESEHATAN")
    assert refused.status_code == 400 and "Tulis judul satu baris" in refused.text and "isi yang diketik" in refused.text
    assert _post(world, "admin", "/workbench/templates/new", csrf=csrf, title="x", text="y",
                 category="NOPE").status_code == 400
    hostile_title = "<b>Obat</b> tersedia"
    for title, text, category in ((hostile_title, "Yth. Bapak/Ibu,\nobat sudah tersedia.\n<script>x()</script>", "KESEHATAN"),
                                  ("Terima kasih", "Terima kasih atas laporan Anda.", ""),
                                  ("Sekolah", "Sekolah sudah diperbaiki.", "PENDIDIKAN")):
        saved = _post(world, "admin", "/workbench/templates/new", csrf=csrf, title=title, text=text, category=category)
        assert saved.status_code == 303 and saved.headers["Location"] == "/workbench/templates?done=saved"
    listing = templates_page("admin").text
    assert "&lt;b&gt;Obat&lt;/b&gt; tersedia" in listing and "Semua kategori" in listing and "Kesehatan" in listing
    ids = {html.unescape(title): int(i) for i, title in re.findall(r'href="/workbench/templates/(\d+)">([^<]+)<', listing)}
    edited = _post(world, "admin", f"/workbench/templates/{ids['Terima kasih']}", csrf=csrf, title="Terima kasih",
                   text="Terima kasih, laporan Anda sudah kami tindak lanjuti.", category="")
    assert edited.status_code == 303
    assert _post(world, "admin", f"/workbench/templates/{ids['Sekolah']}/delete", csrf=csrf).status_code == 303
    assert "Sekolah sudah diperbaiki" not in templates_page("admin").text
    audit = query(world.url, "SELECT event FROM audit_log WHERE event LIKE 'template%' ORDER BY id")
    assert audit == [("template_added",)] * 3 + [("template_changed",), ("template_deleted",)]

    tid = world.new(*IN_PROGRESS, category_code="KESEHATAN")
    page = _page(world, "dinkes", tid).text
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)<', page)
    assert [title for _, title in options] == ["&lt;b&gt;Obat&lt;/b&gt; tersedia", "Terima kasih (semua kategori)"]
    filled = _page(world, "dinkes", tid, template=ids[hostile_title]).text
    assert ("Yth. Bapak/Ibu,\nobat sudah tersedia.\n&lt;script&gt;x()&lt;/script&gt;</textarea>" in filled
            and f'<option value="{ids[hostile_title]}" selected>' in filled)
    assert "<script>x()" not in filled
    other = world.new(*IN_PROGRESS, category_code="PENDIDIKAN")  # only the template for all categories
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)<', _page(world, "dinkes", other).text) == [
        "Terima kasih (semua kategori)"]
    reply = "Yth. Bapak/Ibu,\nobat hipertensi sudah tersedia lagi di Puskesmas Lahei."  # edited before sending
    assert _act(world, "dinkes", tid, "answer", reply=reply).status_code == 303
    public = world.public(tid)
    assert public["status"] == "answered" and public["events"][-1]["public_reply"] == reply


# -- duplicates ------------------------------------------------------------------------------
def test_a_duplicate_follows_its_original_until_unlinked(world):
    original, duplicate, third = world.new(("verify",)), world.new(), world.new()
    csrf = _csrf(world, "admin")

    def link(tid: str, to: str) -> requests.Response:
        return _post(world, "admin", f"/workbench/reports/{tid}/duplicate", csrf=csrf, original=to,
                     status=world.status(tid)[0])

    assert _post(world, "dinkes", f"/workbench/reports/{duplicate}/duplicate", csrf=_csrf(world, "dinkes"),
                 original=original, status="received").status_code == 403
    assert "tidak dapat menjadi duplikat dari dirinya sendiri" in link(duplicate, duplicate).text
    assert "Itu bukan Nomor laporan yang sah." in link(duplicate, "MT01-XXXXX").text
    assert "Tidak ada laporan dengan Nomor laporan itu." in link(duplicate, new_tracking_id("MT01")).text
    linked = link(duplicate, format_tracking_id(original).lower())  # as typed from a receipt
    assert linked.status_code == 303
    assert world.status(duplicate) == ("verified", None)
    page = _page(world, "admin", duplicate).text
    assert f"Digabung dengan laporan {format_tracking_id(original)}" in page and _buttons(page) == {"unlink", "note"}
    assert format_tracking_id(duplicate) in _page(world, "admin", original).text
    own = link(original, duplicate)
    assert own.status_code == 400 and "duplikat dari duplikatnya sendiri" in own.text
    chain = link(third, duplicate)
    assert chain.status_code == 400 and "Laporan itu sendiri adalah duplikat" in chain.text
    refused = _act(world, "admin", duplicate, "archive", status="verified")
    assert refused.status_code == 409 and "mengikuti statusnya" in refused.text
    assert requests.post(f"{world.base}/api/v1/officer/reports/{duplicate}/actions", json={"action": "archive"},
                         headers=auth(world.api["admin"]), timeout=30).status_code == 409
    assert world.status(duplicate) == ("verified", None)

    assert _act(world, "admin", original, "forward", agency="DINKES").status_code == 303
    assert world.status(duplicate) == ("forwarded", "DINKES")
    assert _act(world, "dinkes", original, "start").status_code == 303
    reply = "Puskesmas sudah menambah petugas loket."
    assert _act(world, "dinkes", original, "answer", reply=reply).status_code == 303
    assert world.status(duplicate) == ("answered", "DINKES")
    public = world.public(duplicate)  # the duplicate's citizen reads the original's reply
    assert public["status"] == "answered" and public["events"][-1]["public_reply"] == reply
    assert "Digabung" not in str(public) and original not in str(public)
    english = _page(world, "dinkes", duplicate, lang="en").text
    assert f"Merged with report {format_tracking_id(original)}" in english
    _page(world, "dinkes", duplicate, lang="id")

    assert _post(world, "admin", f"/workbench/reports/{duplicate}/unlink", csrf=csrf).status_code == 303
    assert _act(world, "admin", original, "close").status_code == 303
    assert world.status(original)[0] == "closed" and world.status(duplicate)[0] == "answered"
    assert f"Dilepas dari laporan {format_tracking_id(original)}" in _page(world, "admin", duplicate).text
    events = query(world.url, "SELECT event FROM audit_log WHERE tracking_id = :t AND event LIKE 'duplicate%' ORDER BY id",
                   t=duplicate)
    assert events == [("duplicate_linked",), ("duplicate_unlinked",)]


def test_a_report_linked_to_an_answered_original_takes_its_reply(world):
    reply = "Jalan sudah ditambal."
    original = world.new(*IN_PROGRESS)
    assert _act(world, "dinkes", original, "answer", reply=reply).status_code == 303
    late = world.new()
    assert _post(world, "admin", f"/workbench/reports/{late}/duplicate", csrf=_csrf(world, "admin"), original=original,
                 status="received").status_code == 303
    public = world.public(late)
    assert public["status"] == "answered" and public["agency_code"] == "DINKES"
    assert public["events"][-1]["public_reply"] == reply


# -- the officer API -------------------------------------------------------------------------
def test_officer_api_tokens_act_with_their_officers_role_and_agency(world):
    def act(who: str, tid: str, **payload) -> requests.Response:
        return requests.post(f"{world.base}/api/v1/officer/reports/{tid}/actions", json=payload,
                             headers=auth(world.api[who]), timeout=30)

    tid = world.new()
    for who in ("viewer", "dinkes"):
        refused = act(who, tid, action="verify")
        assert refused.status_code == 403 and "may not verify" in refused.json()["detail"]
    assert act("admin", tid, action="verify").json() == {"tracking_id": tid, "status": "verified"}
    assert act("dinkes", tid, action="start").status_code == 404  # not with their agency (yet)
    assert act("admin", tid, action="forward", agency="DINKES").status_code == 200
    assert act("disdik", tid, action="start").status_code == 404  # another agency's report
    assert act("admin", tid, action="answer", reply="x").status_code == 403
    assert act("dinkes", tid, action="reroute", agency="DISDIK", note="x").status_code == 403
    no_reason = act("admin", tid, action="reroute", agency="DISDIK")
    assert no_reason.status_code == 409 and "reason" in no_reason.json()["detail"]
    assert act("dinkes", tid, action="start").json()["status"] == "in_progress"
    assert act("dinkes", tid, action="answer", reply="Sudah selesai.").json()["status"] == "answered"
    assert act("dinkes", tid, action="close").status_code == 403
    assert act("admin", tid, action="close").json()["status"] == "closed"
    actors = [actor for _k, _s, actor, *_ in _events(world, tid)]
    assert actors == ["system", "Rina Admin", "Rina Admin", "Budi Dinkes", "Budi Dinkes", "Rina Admin"]
    audit = query(world.url, "SELECT officer_name, event, address FROM audit_log WHERE tracking_id = :t ORDER BY id", t=tid)
    assert [(n, e) for n, e, _ in audit] == [("Rina Admin", "report_verify"), ("Rina Admin", "report_forward"),
                                             ("Budi Dinkes", "report_start"), ("Budi Dinkes", "report_answer"),
                                             ("Rina Admin", "report_close")]
    assert {a for *_, a in audit} == {"127.0.0.1"}
    reissued = central_cli(world.url, "officer", "token", "Budi Dinkes")
    assert reissued.returncode == 0 and reissued.stdout.strip() != world.api["dinkes"]
    assert act("dinkes", world.new(*FORWARDED), action="start").status_code == 401  # the old token stops working
    world.api["dinkes"] = reissued.stdout.strip()
    assert central_cli(world.url, "officer", "token", "nobody").returncode == 2
