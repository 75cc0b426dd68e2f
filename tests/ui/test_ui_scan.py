"""The loop closed: the receipt the kiosk printed, seen through a webcam (a video file
through cv2.VideoCapture), read on the scan screen, and its status shown."""
from __future__ import annotations

import pytest

from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env
from kiosk.kernel.tracking_id import format_tracking_id
from tests.support.webcam import webcam_frames, write_video
from tests.support.kiosk_ui import T, first_category, first_kecamatan
from tests.support.ui_driver import KioskDriver

pytestmark = pytest.mark.ui


def _env_with_camera(tmp_path, clock, camera_source: str):
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\ncamera_source = "{camera_source}"\n',
                           encoding="utf-8")
    return build_env(load_config(config_file, environ={}), now=clock.now, monotonic=clock.monotonic)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_printed_receipt_scanned_shows_its_status(kivy_window, tmp_path, clock, lang):
    from kiosk.core.domain import Draft, ReportKind
    from kiosk.core.receipt_content import receipt_content

    video = tmp_path / "webcam.avi"
    env = _env_with_camera(tmp_path, clock, str(video))
    saved = env.reports.submit(Draft(
        kind=ReportKind.PENGADUAN, category_code=first_category(env), title="Lampu jalan padam",
        description="Lampu jalan di depan pasar padam sejak minggu lalu.", incident_date=env.today(),
        kecamatan_code=first_kecamatan(env)))
    printed = env.print_async(receipt_content(saved, env, "id")).result()
    frames = webcam_frames(printed.path.with_suffix(".png"), 20)
    empty_hall = [(frames[0] * 0 + 90).astype(frames[0].dtype)] * 15  # before the receipt is held up
    write_video(empty_hall + frames, video)
    kiosk = KioskDriver(env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        kiosk.tap(kiosk.screen.ids.status)
        assert kiosk.current == "scan"
        assert T(kiosk, "Hold the QR code on your receipt up to the camera.") in kiosk.all_text()
        kiosk.wait_until(lambda: kiosk.screen.preview is not None, what="the live preview")
        first_texture = kiosk.screen.preview
        kiosk.frames(10, paced=True)  # the camera's next frames arrive, in real time
        assert kiosk.screen.preview is first_texture  # one texture reused for every frame: no leak
        kiosk.screenshot("16-scan")
        kiosk.wait_until(lambda: kiosk.current == "status", max_frames=2000, what="the receipt to be read")
        kiosk.wait_until(lambda: kiosk.screen.result_kind != "checking", what="the lookup")
        assert kiosk.screen.result_kind == "found"
        assert format_tracking_id(saved.tracking_id) in kiosk.all_text()
        kiosk.screenshot("16-status-after-scan")
        assert kiosk.app.root.get_screen("scan")._reader is None  # camera released
    finally:
        kiosk.close()
        env.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_missing_camera_offers_typing(kivy_window, tmp_path, clock, lang):
    env = _env_with_camera(tmp_path, clock, "/dev/video99")
    kiosk = KioskDriver(env)
    try:
        if lang == "en":
            kiosk.tap(kiosk.screen.ids.lang_en)
        kiosk.tap(kiosk.screen.ids.status)
        kiosk.wait_until(lambda: kiosk.screen.message == "no_camera", what="the camera failure")
        assert T(kiosk, "The camera is not available. Please type the report number.") in kiosk.all_text()
        kiosk.screenshot("17-scan-no-camera")
        kiosk.tap(kiosk.screen.ids.type_instead)
        assert kiosk.current == "status"
    finally:
        kiosk.close()
        env.close()
