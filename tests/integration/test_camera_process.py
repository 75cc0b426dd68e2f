"""The camera and its decoders in their own process (devices/camera_process.py): a real
child process reading webcam-like frames from a folder, as the scan screen starts it.

What the kiosk would notice: the receipt is read and the preview arrives no wider than
the screen needs; a camera that cannot be opened, or a child that dies mid-scan (a
crashing driver), is one clear error and the kiosk goes on; leaving the screen leaves no
process behind; and the kiosk's own process never loads OpenCV or NumPy for it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import pytest

from devices.camera_process import CameraProcess
from devices.camera_types import CameraNotOpened, CameraUnavailable
from devices.printer.file import FilePrinter
from kiosk.core.receipt import ReceiptContent, print_receipt
from kiosk.kernel.tracking_id import new_tracking_id
from tests.support.webcam import webcam_frames

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60  # a child importing OpenCV on a loaded CI machine: seconds, not milliseconds


@pytest.fixture
def camera_folder(tmp_path) -> tuple[str, Path]:
    """A folder of 1280x720 webcam frames: an empty hall, then a printed receipt held up."""
    tid = new_tracking_id("MT01")
    content = ReceiptContent(tid, dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc),
                             "Pemerintah Kabupaten Barito Utara", "MPP Muara Teweh", "Pengaduan", "Kesehatan",
                             "Antrean lama", False, "id")
    png = print_receipt(FilePrinter(tmp_path / "receipts"), content).path.with_suffix(".png")
    folder = tmp_path / "camera"
    folder.mkdir()
    frames = webcam_frames(png, 6, size=(1280, 720))
    for n in range(4):
        cv2.imwrite(str(folder / f"a-empty-{n}.png"), frames[0] * 0 + 90)
    for n, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"b-receipt-{n}.png"), frame)
    return tid, folder


class _Heard:
    """What the callbacks said, in order, from the listener thread."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()

    def camera(self, spec: str, **kwargs) -> CameraProcess:
        return CameraProcess(spec, on_frame=lambda f: self.events.put(("frame", f)),
                             on_result=lambda r: self.events.put(("result", r)),
                             on_error=lambda e: self.events.put(("error", e)), fps=30, **kwargs)

    def next(self, kind: str):
        while True:
            got, value = self.events.get(timeout=WAIT_S)
            if got == kind:
                return value
            assert got != "error", f"camera error while waiting for a {kind}: {value}"


def _gone(camera: CameraProcess) -> bool:
    return camera._process is not None and camera._process.poll() is not None  # noqa: SLF001 - the child itself


def test_the_receipt_is_read_in_the_child_and_the_preview_is_screen_sized(camera_folder):
    """GIVEN a camera showing an empty hall, then a receipt (1280x720 frames) WHEN the
    camera process reads it THEN the receipt's Tracking ID arrives, the preview frames are
    640 px wide with the camera's proportions, and after stop() the child is gone."""
    tid, folder = camera_folder
    heard = _Heard()
    camera = heard.camera(str(folder))
    camera.start()
    try:
        frame = heard.next("frame")
        assert (frame.width, frame.height) == (640, 360) and len(frame.pixels) == 640 * 360 * 3
        result = heard.next("result")
        assert result.tracking_id == tid and not result.foreign
        assert camera.running and camera.pid != os.getpid()
    finally:
        camera.stop(wait=True)
    assert _gone(camera) and not camera.running
    assert camera._process.returncode == 0  # noqa: SLF001 - it ended as asked, not killed


def test_a_camera_that_cannot_be_opened_is_one_clear_error(tmp_path):
    """GIVEN a camera device that does not exist WHEN the scan screen starts the camera
    THEN one error says the source cannot be opened (for the technician's log), and the
    child ends by itself."""
    heard = _Heard()
    camera = heard.camera("/dev/video99")
    camera.start()
    kind, error = heard.events.get(timeout=WAIT_S)
    # Its kind crosses the pipe with it: the technician is told to check the setting and
    # the device's rights, not to replug a camera that works.
    assert kind == "error" and isinstance(error, CameraNotOpened) and "cannot be opened" in str(error)
    camera._listener.join(WAIT_S)  # noqa: SLF001 - the listener ends with the child
    assert _gone(camera) and heard.events.empty()  # one error, not a second for the child's end


def test_a_child_that_dies_mid_scan_is_reported_and_nothing_else_breaks(camera_folder):
    """GIVEN the camera process delivering frames WHEN it is killed (a camera driver that
    crashes) THEN the kiosk hears "the camera process ended" once, and a new camera
    process started afterwards reads the receipt."""
    tid, folder = camera_folder
    heard = _Heard()
    camera = heard.camera(str(folder))
    camera.start()
    heard.next("frame")
    os.kill(camera.pid, signal.SIGKILL)
    error = heard.next("error")
    assert isinstance(error, CameraUnavailable) and not isinstance(error, CameraNotOpened) and "ended" in str(error)
    camera.stop(wait=True)

    again = _Heard()
    second = again.camera(str(folder))
    second.start()
    try:
        assert again.next("result").tracking_id == tid
    finally:
        second.stop(wait=True)
    assert _gone(second)


def test_stopping_at_once_leaves_no_process_behind(camera_folder):
    """GIVEN a citizen who taps "type the number instead" as the scan screen opens WHEN
    the camera is stopped before its child has even loaded OpenCV THEN stop() returns at
    once and the child ends by itself, with nothing handed on after the stop."""
    _tid, folder = camera_folder
    heard = _Heard()
    camera = heard.camera(str(folder))
    camera.start()
    camera.stop()
    camera._listener.join(WAIT_S)  # noqa: SLF001
    assert _gone(camera) and camera._process.returncode == 0  # noqa: SLF001
    assert heard.events.empty()


def test_the_kiosk_process_never_loads_opencv_or_numpy_for_a_scan(camera_folder):
    """GIVEN a fresh process as the kiosk's (this test process has loaded OpenCV for its
    own frames) WHEN it reads a receipt through the camera process THEN neither cv2 nor
    numpy is among its modules: they live and end with the child; once stopped, the
    process has no child left at all (multiprocessing's resource tracker would stay)."""
    tid, folder = camera_folder
    script = textwrap.dedent(f"""
        import sys, threading
        from devices.camera_process import CameraProcess
        got = []
        done = threading.Event()
        camera = CameraProcess({str(folder)!r}, on_result=lambda r: (got.append(r.tracking_id), done.set()),
                               on_error=lambda e: (got.append(str(e)), done.set()), fps=30)
        camera.start()
        done.wait({WAIT_S})
        camera.stop(wait=True)
        import psutil
        print(got[0] if got else "nothing", "cv2" in sys.modules, "numpy" in sys.modules,
              len(psutil.Process().children(recursive=True)))
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S * 2)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [tid, "False", "False", "0"]  # and no process left behind (no resource tracker)


def test_the_doctor_reads_the_camera_through_its_process(camera_folder, tmp_path):
    """GIVEN a kiosk whose camera shows the hall WHEN the technician runs ``kiosk doctor``
    THEN the camera line is OK with the camera's own size (not the preview's) and a frame
    rate, read the way the scan screen reads it."""
    _tid, folder = camera_folder
    config = tmp_path / "kiosk.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\ncamera_source = "{folder}"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "doctor", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S * 2)
    camera = next(c for c in json.loads(run.stdout) if c["check"] == "camera")
    assert camera["ok"], camera
    assert camera["detail"].startswith("1280x720 at about ") and camera["detail"].endswith(" frames per second")


def test_the_doctor_tells_a_camera_it_cannot_open_from_one_that_stopped(tmp_path):
    """GIVEN a camera_source naming no device WHEN the technician runs ``kiosk doctor``
    THEN the camera line fails with the source's error and says to check the setting, the
    cable and the rights (by the error's kind, which crosses from the camera's process)."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\ncamera_source = "/dev/video99"\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "doctor", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S * 2)
    camera = next(c for c in json.loads(run.stdout) if c["check"] == "camera")
    assert not camera["ok"] and "cannot be opened" in camera["detail"], camera
    assert camera["fix"].startswith("check camera_source"), camera
