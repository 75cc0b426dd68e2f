"""End to end: a report filed at kiosk A travels to the central, is moved by an officer,
and is looked up at kiosk B by scanning A's receipt; the same status is on the public
page, in a real headless browser too."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from kiosk.runtime.config import load_config
from kiosk.core.domain import Draft, ReportKind
from kiosk.runtime.env import build_env
from kiosk.core.receipt_content import receipt_content
from kiosk.core.sync_tasks import StatusPull
from tests.support.central import central_cli
from tests.support.webcam import webcam_frames, write_video
from tests.support.ui_driver import ARTIFACTS, KioskDriver

pytestmark = pytest.mark.ui


def kiosk_env(folder, clock, code, central_url, token, **extra):
    lines = [f'data_dir = "{folder}"', f'kiosk_code = "{code}"', f'central_url = "{central_url}"',
             f'central_token = "{token}"'] + [f'{k} = "{v}"' for k, v in extra.items()]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kiosk.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return build_env(load_config(folder / "kiosk.toml", environ={}), now=clock.now, monotonic=clock.monotonic)


@pytest.fixture
def filed_at_kiosk_a(central, token, tmp_path, clock):
    """A report filed and delivered at kiosk A, then moved by an officer; A's receipt image."""
    base, url, _ = central
    env_a = kiosk_env(tmp_path / "a", clock, "MT01", base, token)
    try:
        saved = env_a.reports.submit(Draft(
            kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title="Antrean puskesmas lama",
            description="Antrean di puskesmas sangat panjang setiap pagi.", incident_date=env_a.today(),
            kecamatan_code="LAHEI", reporter_name="Siti Aminah"))
        printed = env_a.print_async(receipt_content(saved, env_a, "id")).result()
        assert env_a.sync.run_once().sent == 1
    finally:
        env_a.close()
    for action, *extra in (("verify",), ("forward", "--agency", "DINKES"),
                           ("answer", "--reply", "Loket tambahan dibuka mulai Senin."),):
        assert central_cli(url, "report", saved.tracking_id, action, "--actor", "Rina", *extra).returncode == 0
    return saved.tracking_id, printed.path.with_suffix(".png")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_receipt_from_kiosk_a_scanned_at_kiosk_b(kivy_window, central, filed_at_kiosk_a, tmp_path, clock, lang):
    base, url, _ = central
    tracking_id, receipt_png = filed_at_kiosk_a
    token_b = central_cli(url, "kiosk", "add", f"MB{'1' if lang == 'id' else '2'}0", "--location", "Kecamatan Lahei").stdout.strip()
    video = write_video(webcam_frames(receipt_png, 15), tmp_path / "webcam.avi")
    env_b = kiosk_env(tmp_path / "b", clock, f"MB{'1' if lang == 'id' else '2'}0", base, token_b, camera_source=str(video))
    kiosk = KioskDriver(env_b)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        kiosk.tap(kiosk.screen.ids.status)
        kiosk.wait_until(lambda: kiosk.current == "status", max_frames=2000, what="the receipt to be read")
        kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the central's answer")
        shown = kiosk.all_text()
        expected = {"id": ["Diterima oleh kantor pusat", "Diverifikasi", "Diteruskan ke Dinas Kesehatan",
                           "Dijawab oleh Dinas Kesehatan", "Loket tambahan dibuka mulai Senin.", "10 hari kerja"],
                    "en": ["Received by the central office", "Verified", "Forwarded to Health Office",
                           "Answered by Health Office", "Loket tambahan dibuka mulai Senin.", "10 working days"]}[lang]
        for words in expected:
            assert words in shown, words
        assert "Siti Aminah" not in shown
        assert not kiosk.screen.own_report  # another kiosk's receipt: no reprint here
        kiosk.screenshot("18-status-from-central")
        kiosk.tap(kiosk.screen.ids.print_status)  # "print this status" works for any report
        kiosk.wait_until(lambda: kiosk.screen.reprint_state in ("printed", "failed"), what="the status slip")
        from devices.escpos_sim import parse_escpos

        [slip] = env_b.config.receipts_path.glob(f"{tracking_id}-*-status.bin")
        printed = parse_escpos(slip.read_bytes()).text.replace("\n", " ")
        assert expected[2].split(" ke ")[0].split(" to ")[0] in printed and "Siti" not in printed
    finally:
        kiosk.close()
        env_b.close()


def test_offline_kiosks(kivy_window, central, token, filed_at_kiosk_a, tmp_path, clock):
    """Offline, kiosk B cannot check A's receipt and says so; kiosk A shows the last status
    it learned, and when."""
    tracking_id, _ = filed_at_kiosk_a
    dead = "http://127.0.0.1:9"
    env_b = kiosk_env(tmp_path / "b-offline", clock, "MB30", dead, "token")
    kiosk = KioskDriver(env_b)
    try:
        kiosk.tap(kiosk.screen.ids.status)
        kiosk.screen.look_up(tracking_id)
        kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the answer")
        assert kiosk.screen.result_kind == "offline_unknown"
        assert "sedang luring" in kiosk.all_text()
        kiosk.screenshot("19-status-offline-other-kiosk")
    finally:
        kiosk.close()
        env_b.close()

    base, _, _ = central
    env_a = kiosk_env(tmp_path / "a", clock, "MT01", base, token)  # kiosk A, still online
    assert StatusPull(env_a.store, env_a.sync.client, env_a.now).pull() == 1
    env_a.close()
    env_a = kiosk_env(tmp_path / "a", clock, "MT01", dead, token)  # ... and now offline
    kiosk = KioskDriver(env_a)
    try:
        kiosk.tap(kiosk.screen.ids.status)
        kiosk.screen.look_up(tracking_id)
        kiosk.wait_until(lambda: kiosk.screen.result_kind not in ("", "checking"), what="the answer")
        shown = kiosk.all_text()
        assert "Status terakhir yang diketahui" in shown and "Dijawab oleh Dinas Kesehatan" in shown
        assert kiosk.screen.own_report
        kiosk.screenshot("20-status-offline-last-known")
    finally:
        kiosk.close()
        env_a.close()


def test_public_page_in_a_real_browser(central, filed_at_kiosk_a):
    """The page a phone opens from the receipt's QR code, rendered by headless Chromium."""
    base, _, _ = central
    tracking_id, _ = filed_at_kiosk_a
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is missing: `make test` installs Debian's chromium package"
    shot = ARTIFACTS / "public-status-id.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    profile = ARTIFACTS / "chromium-profile"
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={profile}", "--window-size=412,915", f"--screenshot={shot}",
                          f"{base}/status/{tracking_id}"], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 5000, run.stderr[-2000:]
    from PIL import Image

    assert Image.open(shot).size == (412, 915)
