"""Camera sources and the reader thread that scans their frames for receipt QR codes.

Sources, from the ``camera_source`` setting: a camera index (``0``), a device
(``/dev/video0``), an image file, a folder of images, a video file, or an RTSP/HTTP
stream. Frames are read on a worker thread at a capped rate, every ``read()`` is checked
(a camera that vanishes is reported, never a crash), and the source is released when
the reader stops. Unlike Kivy's own OpenCV camera, nothing here runs on the UI clock.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from devices.camera_types import CameraError, CameraNotOpened, CameraUnavailable, ScanResult
from devices.qr import scan

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
#: Consecutive failed reads after which the camera counts as gone.
MAX_FAILED_READS = 10


class _Images:
    """An image file or a folder of images, shown as an endless stream of frames, each
    decoded as it is shown: a folder of webcam frames is never held in memory at once
    (24 frames of 1280x720 were 26 MiB of the kiosk's heap in the soak benchmark).
    Files that do not decode are skipped."""

    def __init__(self, paths: list[Path]):
        self.paths = list(paths)
        self._next = 0
        self._first = self._decode_next()
        if self._first is None:
            raise CameraNotOpened("no readable image in the configured camera source")

    def _decode_next(self) -> np.ndarray | None:
        for _ in range(len(self.paths)):
            path = self.paths[self._next % len(self.paths)]
            self._next += 1
            frame = cv2.imread(str(path))
            if frame is not None:
                return frame
        return None

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        return self._decode_next()

    def release(self) -> None:
        self.paths, self._first = [], None


class _Capture:
    """cv2.VideoCapture with every read checked; video files loop."""

    def __init__(self, spec: str):
        if spec.isdigit():
            self.cap, self.loops = cv2.VideoCapture(int(spec)), False
        else:
            self.cap, self.loops = cv2.VideoCapture(spec), Path(spec).is_file()
        if not self.cap.isOpened():
            self.cap.release()
            raise CameraNotOpened(f"camera source {spec!r} cannot be opened")

    def read(self) -> np.ndarray | None:
        ok, frame = self.cap.read()
        if not ok and self.loops:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.cap.read()
        return frame if ok and frame is not None else None

    def release(self) -> None:
        self.cap.release()


def open_source(spec: str):
    """The frame source for a ``camera_source`` setting (raises CameraUnavailable)."""
    spec = (spec or "").strip()
    if not spec:
        raise CameraNotOpened("no camera configured (camera_source is empty)")
    path = Path(spec)
    if path.is_dir():
        return _Images(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _Images([path])
    return _Capture(spec)


class CameraReader:
    """Reads and scans frames on its own thread; reports through callbacks (called on
    the reader thread: a UI must hand them to its own thread)."""

    def __init__(self, spec: str, *, on_frame: Callable[[np.ndarray], None] | None = None,
                 on_result: Callable[[ScanResult], None], on_error: Callable[[CameraError], None],
                 fps: float = 15.0, status_base_url: str = ""):
        self.spec, self.fps, self.status_base_url = spec, fps, status_base_url
        self.on_frame, self.on_result, self.on_error = on_frame, on_result, on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            source = open_source(self.spec)
        except CameraError as exc:
            self.on_error(exc)
            return
        failed = 0
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                frame = source.read()
                if frame is None:
                    failed += 1
                    if failed >= MAX_FAILED_READS:
                        self.on_error(CameraUnavailable("the camera stopped delivering frames"))
                        return
                else:
                    failed = 0
                    if self.on_frame is not None:
                        self.on_frame(frame)
                    result = scan(frame, self.status_base_url)
                    if result is not None:
                        self.on_result(result)
                self._stop.wait(max(0.0, 1.0 / self.fps - (time.monotonic() - started)))
        except Exception as exc:  # noqa: BLE001 - a camera bug must not end the kiosk
            log.error("camera reader failed: %s", type(exc).__name__)
            self.on_error(CameraError(type(exc).__name__))
        finally:
            source.release()
