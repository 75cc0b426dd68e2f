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
    """The camera was there and stopped: it delivers no more frames, or its process ended."""


class CameraNotOpened(CameraUnavailable):
    """The configured source could not be opened at all (no such device, no permission, no
    readable image): the technician checks ``camera_source``, the cable and the rights."""


#: The errors that cross from the camera's process to the kiosk, by name (the pipe carries
#: the name and the message; the kiosk raises the same kind).
ERRORS_BY_NAME: dict[str, type[CameraError]] = {
    kind.__name__: kind for kind in (CameraError, CameraUnavailable, CameraNotOpened)}


def error_from_wire(name: str, message: str) -> CameraError:
    """The error the camera's process reported: its kind, or CameraUnavailable for a name
    this kiosk does not know."""
    return ERRORS_BY_NAME.get(name, CameraUnavailable)(message)
