"""What the camera says, without the camera: a QR code's reading, a preview frame and the
camera's errors. Light on purpose (no OpenCV, no NumPy): the kiosk's UI process imports
this, while the camera and the decoders run in a process of their own
(:mod:`devices.camera_process`)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ScanResult:
    tracking_id: str | None  # ours, canonical
    foreign: bool  # a QR code was read but it is not one of our receipts


@dataclasses.dataclass(frozen=True)
class Frame:
    """A preview frame: ``width`` x ``height`` pixels, 3 bytes each (blue, green, red),
    rows top-down; the camera's own frame was ``camera_width`` x ``camera_height``."""

    pixels: bytes
    width: int
    height: int
    camera_width: int
    camera_height: int


class CameraError(Exception):
    """No usable camera; the message is for the technician."""


class CameraUnavailable(CameraError):
    pass
