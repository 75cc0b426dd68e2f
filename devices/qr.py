"""Reading receipt QR codes from camera frames, with a ladder of decoders that tries the
cheap things first: zxing-cpp on the frame (what reads nearly every ordinary frame), then,
only when that found nothing, targeted preprocessing of the code region zxing-cpp located
but could not read (upscaled and sharpened), the frame sharpened, pyzbar on the adaptively
thresholded frame, and the whole frame upscaled for codes too small even to be located.

The camera calls the ladder once per frame with a time budget: the expensive rungs a frame
has no time for are tried on the next frames (a second frame is a second chance), so a
slow ladder never starves the camera. Only our Tracking IDs are accepted (bare, or at the
end of our status URL); anything else is reported as "not ours" and never acted on.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import cv2
import numpy as np

from devices.camera_types import ScanResult
from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

log = logging.getLogger(__name__)

#: Milliseconds of decoding one camera frame may take before the remaining rungs wait for
#: the next frame (the camera runs at 15 frames a second: 66 ms apart).
FRAME_BUDGET_MS = 25.0
#: The longest side the whole-frame rung upscales to (its cost grows with the area).
MAX_UPSCALED_SIDE = 1600
#: At most this many code regions (located by zxing-cpp, not read) are worked on per frame.
MAX_REGIONS = 2


class _Frame:
    """One camera frame and what the rungs computed from it, each at most once."""

    def __init__(self, frame: np.ndarray):
        self.frame = frame
        self.regions: list[np.ndarray] = []  # corners of codes located but not read

    @functools.cached_property
    def grey(self) -> np.ndarray:
        return cv2.cvtColor(self.frame, cv2.COLOR_BGR2GRAY) if self.frame.ndim == 3 else self.frame

    @functools.cached_property
    def thresholded(self) -> np.ndarray:
        return cv2.adaptiveThreshold(self.grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 10)


def _zxing(image: np.ndarray, **options) -> list:
    import zxingcpp

    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, **options)


def _texts(barcodes) -> list[str]:
    return [b.text for b in barcodes if b.valid and b.text]


def _pyzbar(image: np.ndarray) -> list[str]:
    _use_bundled_zbar()
    from pyzbar.pyzbar import ZBarSymbol, decode

    return [s.data.decode("utf-8", "replace") for s in decode(image, symbols=[ZBarSymbol.QRCODE])]


def _unsharp(grey: np.ndarray, sigma: float, amount: float = 1.5) -> np.ndarray:
    """Unsharp mask: steepens the module edges a blurred or defocused picture softened."""
    blurred = cv2.GaussianBlur(grey, (0, 0), sigma)
    return cv2.addWeighted(grey, 1 + amount, blurred, -amount, 0)


def _upscale(grey: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def rung_zxing(f: _Frame) -> list[str]:
    """zxing-cpp on the frame as it is; it also says where it saw a code it could not read."""
    barcodes = _zxing(f.grey, return_errors=True)
    f.regions = [_corners(b.position) for b in barcodes if not b.valid][:MAX_REGIONS]
    return _texts(barcodes)


def rung_region_upscaled(f: _Frame) -> list[str]:
    """A code zxing-cpp located but could not read (small, blurred): its region cut out with
    a margin, upscaled to about 400 pixels and sharpened, then read by zxing-cpp with its own
    binarizer and, failing that, on an adaptive threshold."""
    import zxingcpp

    height, width = f.grey.shape
    for corners in f.regions:
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        side = max(x1 - x0, y1 - y0, 8)
        margin = 0.35 * side
        left, top = int(max(0, x0 - margin)), int(max(0, y0 - margin))
        right, bottom = int(min(width, x1 + margin)), int(min(height, y1 + margin))
        crop = f.grey[top:bottom, left:right]
        if crop.size == 0:
            continue
        factor = min(4.0, max(1.5, 400 / max(crop.shape)))
        sharp = _unsharp(_upscale(crop, factor), sigma=factor)
        texts = _texts(_zxing(sharp, try_downscale=False))
        if texts:
            return texts
        binary = cv2.adaptiveThreshold(sharp, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                       int(16 * factor) | 1, 8)
        texts = _texts(_zxing(binary, binarizer=zxingcpp.Binarizer.BoolCast, try_downscale=False))
        if texts:
            return texts
    return []


def rung_sharpened(f: _Frame) -> list[str]:
    """zxing-cpp on the frame through an unsharp mask (defocus, motion blur)."""
    return _texts(_zxing(_unsharp(f.grey, sigma=2.0)))


def rung_pyzbar_thresholded(f: _Frame) -> list[str]:
    """pyzbar on the adaptively thresholded frame: its finder reads uneven light and noise
    that zxing-cpp misses."""
    return _pyzbar(f.thresholded)


def rung_upscaled_sharpened(f: _Frame) -> list[str]:
    """The whole frame upscaled (twice, for a 640x480 webcam; less for a larger frame, whose
    codes have more pixels already) and sharpened: a code too small for zxing-cpp even to
    locate (the receipt held far from the camera)."""
    factor = min(2.0, MAX_UPSCALED_SIDE / max(f.grey.shape))
    if factor < 1.25:
        return []
    return _texts(_zxing(_unsharp(_upscale(f.grey, factor), sigma=1.5 * factor), try_downscale=False))


def _corners(position) -> np.ndarray:
    return np.array([[p.x, p.y] for p in (position.top_left, position.top_right,
                                          position.bottom_right, position.bottom_left)], np.float32)


@dataclasses.dataclass(frozen=True)
class Rung:
    """One way of reading a frame: its name (in tests and benchmarks) and the reader."""

    name: str
    read: Callable[[_Frame], list[str]]


#: The ladder, cheapest first. The first rung runs on every frame; the others only on
#: frames the rungs before them could not read.
RUNGS: tuple[Rung, ...] = (
    Rung("zxing-cpp", rung_zxing),
    Rung("code region upscaled", rung_region_upscaled),
    Rung("sharpened", rung_sharpened),
    Rung("pyzbar thresholded", rung_pyzbar_thresholded),
    Rung("whole frame upscaled", rung_upscaled_sharpened),
)


@dataclasses.dataclass(frozen=True)
class Decoded:
    """What the ladder read in one frame: the accepted payloads (or, when none was
    accepted, every payload read), the rung that read the first, the rungs tried."""

    payloads: list[str]
    rung: str | None  # the rung that read payloads[0]; None when nothing was read
    tried: tuple[str, ...]  # the rungs tried on this frame, in order


class QrLadder:
    """Runs the rungs on a frame until one reads a code (with ``accept``: a code it
    accepts, one of our receipts; a code that is not ours does not stop the ladder, as a
    poster behind the receipt must not hide it). With a budget, the rungs after the first
    that a frame had no time for start the next frame's attempt (round robin), so
    successive frames of the same receipt together try every rung."""

    def __init__(self, rungs: tuple[Rung, ...] = RUNGS, *, budget_ms: float | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.rungs, self.budget_ms, self.clock = rungs, budget_ms, clock
        self._next = 1  # the rung after the first that the next unread frame starts with
        self._lock = threading.Lock()

    def decode(self, frame: np.ndarray, accept: Callable[[str], bool] | None = None) -> Decoded:
        started = self.clock()
        f = _Frame(frame)
        found: dict[str, str] = {}  # payload -> the rung that read it first
        tried: list[str] = []

        def attempt(rung: Rung) -> bool:
            tried.append(rung.name)
            payloads = rung.read(f)
            for payload in payloads:
                found.setdefault(payload, rung.name)
            return any(map(accept, payloads)) if accept else bool(payloads)

        def done(next_rung: int) -> Decoded:
            with self._lock:
                self._next = next_rung
            wanted = [p for p in found if accept(p)] if accept else list(found)
            chosen = wanted or list(found)
            return Decoded(chosen, found[chosen[0]] if chosen else None, tuple(tried))

        if attempt(self.rungs[0]):
            return done(1)
        _load_slow_decoders()
        rest = len(self.rungs) - 1
        with self._lock:
            start = self._next
        for step in range(rest):
            index = 1 + (start - 1 + step) % rest
            if step and self.budget_ms is not None and (self.clock() - started) * 1000 >= self.budget_ms:
                return done(index)
            if attempt(self.rungs[index]):
                return done(1)
        return done(1)


#: The camera's ladder: a budget per frame, the rest on the next frames.
_camera_ladder = QrLadder(budget_ms=FRAME_BUDGET_MS)


def decode_frame(frame: np.ndarray) -> list[str]:
    """Every QR payload the first successful rung found in a BGR or grey frame, trying the
    whole ladder (for a still picture, which gets no second frame)."""
    return QrLadder().decode(frame).payloads


@functools.cache
def _load_slow_decoders() -> None:
    """Load pyzbar (and libzbar) once, on the first frame the first rung could not read:
    its import takes 40-70 ms, which would otherwise land inside one rung's time."""
    _use_bundled_zbar()
    import pyzbar.pyzbar  # noqa: F401


@functools.cache
def _use_bundled_zbar() -> None:
    """In the PyInstaller bundle (kiosk.spec), make pyzbar load the libzbar the bundle
    carries: pyzbar asks ``ctypes.util.find_library``, which never looks inside a bundle
    (and finds nothing on a machine without libzbar0). Outside a bundle: nothing to do."""
    if not getattr(sys, "frozen", False):
        return
    bundled = Path(sys._MEIPASS) / "libzbar.so.0"  # noqa: SLF001 - PyInstaller's bundle folder
    if not bundled.is_file():
        return
    from pyzbar import zbar_library

    system_find_library = zbar_library.find_library
    zbar_library.find_library = lambda name: str(bundled) if name == "zbar" else system_find_library(name)


def tracking_id_from_payload(payload: str, status_base_url: str = "") -> str | None:
    """Our Tracking ID from a QR payload, or None when the code is not one of our receipts."""
    text = payload.strip()
    if len(text) > 300:
        return None
    if "/" in text:
        if not status_base_url:
            return None
        base = urlparse(status_base_url.rstrip("/"))
        url = urlparse(text)
        head, _, last = url.path.rstrip("/").rpartition("/")
        if (url.scheme, url.netloc, head) != (base.scheme, base.netloc, base.path.rstrip("/")):
            return None
        text = last
    if len(text) != 14:  # our QR codes carry the canonical form only
        return None
    try:
        return parse_tracking_id(text)
    except TrackingIdError:
        return None


def scan(frame: np.ndarray, status_base_url: str = "", *, ladder: QrLadder | None = None) -> ScanResult | None:
    """None when no QR code is in the frame. A camera frame: the camera's ladder, within
    its budget per frame (the rungs left over are tried on the next frames), climbing on
    past a code that is not ours until it reads one that is."""
    payloads = (ladder or _camera_ladder).decode(
        frame, accept=lambda payload: tracking_id_from_payload(payload, status_base_url) is not None).payloads
    if not payloads:
        return None
    for payload in payloads:
        found = tracking_id_from_payload(payload, status_base_url)
        if found:
            return ScanResult(found, foreign=False)
    return ScanResult(None, foreign=True)
