"""Reading receipt QR codes from camera frames: zxing-cpp first, pyzbar on an adaptively
thresholded frame when zxing-cpp finds nothing. Only our Tracking IDs are accepted (bare,
or at the end of our status URL); anything else is reported as "not ours" and never acted on.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import sys
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

log = logging.getLogger(__name__)


def decode_frame(frame: np.ndarray) -> list[str]:
    """Every QR payload found in a BGR or grey frame."""
    import zxingcpp

    results = zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)
    payloads = [r.text for r in results if r.text]
    if payloads:
        return payloads
    _use_bundled_zbar()
    from pyzbar.pyzbar import ZBarSymbol, decode

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 10)
    return [s.data.decode("utf-8", "replace") for s in decode(binary, symbols=[ZBarSymbol.QRCODE])]


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


@dataclasses.dataclass(frozen=True)
class ScanResult:
    tracking_id: str | None  # ours, canonical
    foreign: bool  # a QR code was read but it is not one of our receipts


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


def scan(frame: np.ndarray, status_base_url: str = "") -> ScanResult | None:
    """None when no QR code is in the frame."""
    payloads = decode_frame(frame)
    if not payloads:
        return None
    for payload in payloads:
        found = tracking_id_from_payload(payload, status_base_url)
        if found:
            return ScanResult(found, foreign=False)
    return ScanResult(None, foreign=True)
