"""The camera and the QR decoders in a process of their own, alive only while the scan
screen is shown.

OpenCV and the decoders, with the buffers of a camera running at 15 frames a second,
were about 45 MiB of the kiosk's memory from the first citizen who held up a receipt
until the kiosk was restarted, weeks later (``benchmarks/soak.py``). Here they
live in a child process (a fresh interpreter, :func:`child_command`: nothing of the
kiosk's UI is copied into it) that ends when the scan screen is left, and their memory
goes back to the system with it. A camera driver or a decoder that crashes ends that
child, not the kiosk: the screen is told as of any camera fault ("type the number
instead"). The two talk over a socket pair with ``multiprocessing``'s message framing;
``multiprocessing`` itself would start a resource-tracker process that lives as long as
the kiosk (6 MiB of its own) for nothing here.

:class:`CameraProcess` keeps :class:`devices.camera.CameraReader`'s contract: ``start``,
``stop``, and callbacks called on a thread of its own (``camera-listen``) that a UI hands
to its own thread. Frames come as :class:`devices.camera_types.Frame`, made no wider
than ``preview_width`` in the child, so the pipe carries what the screen shows, not what
the camera sees. This module imports neither OpenCV nor NumPy; only the child does.
"""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Callable

from devices.camera_types import CameraError, CameraUnavailable, Frame, ScanResult, error_from_wire
from kiosk.kernel import children

log = logging.getLogger(__name__)

#: The widest preview frame sent to the kiosk (the scan screen's preview is narrower).
PREVIEW_WIDTH = 640
#: Seconds the child is given to end after "stop" before it is killed.
STOP_GRACE_S = 3.0
#: The word that makes the bundled kiosk the camera's process (``main.py``).
CHILD_WORD = "camera-serve"


def child_command() -> list[str]:
    """How this program starts the camera's process (:func:`kiosk.kernel.children.command`)."""
    return children.command("devices.camera_process", CHILD_WORD)


class CameraProcess:
    """Reads and scans frames in a child process; reports through callbacks (called on
    the ``camera-listen`` thread: a UI must hand them to its own thread)."""

    def __init__(self, spec: str, *, on_frame: Callable[[Frame], None] | None = None,
                 on_result: Callable[[ScanResult], None], on_error: Callable[[CameraError], None],
                 fps: float = 15.0, status_base_url: str = "", preview_width: int = PREVIEW_WIDTH):
        self.spec, self.fps, self.status_base_url, self.preview_width = spec, fps, status_base_url, preview_width
        self.on_frame, self.on_result, self.on_error = on_frame, on_result, on_error
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._listener: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """The child is reading the camera and has not been asked to stop."""
        return self._process is not None and self._process.poll() is None and not self._stopping.is_set()

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            with theirs:
                self._process = subprocess.Popen(
                    [*child_command(), str(theirs.fileno()), self.spec, str(self.fps), self.status_base_url,
                     str(self.preview_width)],
                    pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=children.environ())
        except OSError as exc:  # no memory or no process left to start it: a camera fault like any other
            ours.close()
            self._process = None
            self.on_error(CameraUnavailable(f"the camera process cannot start ({type(exc).__name__})"))
            return
        self._conn = Connection(ours.detach())  # the child holds the other end: once it ends, ours reads EOF
        self._listener = threading.Thread(target=self._listen, name="camera-listen", daemon=True)
        self._listener.start()

    def stop(self, *, wait: bool = False) -> None:
        """Ask the child to end and return at once; the listener waits for it (and kills it
        after :data:`STOP_GRACE_S`). ``wait``: return only once the child is gone."""
        self._stopping.set()
        if self._conn is not None:
            try:
                self._conn.send(("stop",))
            except OSError:  # the child already ended
                pass
        if wait and self._listener is not None and self._listener is not threading.current_thread():
            self._listener.join(STOP_GRACE_S + 5)

    def _listen(self) -> None:
        conn, process = self._conn, self._process
        reported = False  # one error a camera: the child's own, or its end
        try:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):  # the child ended: asked to, after an error, or crashed
                    if not self._stopping.is_set() and not reported:
                        try:
                            code = process.wait(1)
                        except subprocess.TimeoutExpired:
                            code = None
                        log.warning("camera process ended (exit code %s)", code)
                        self.on_error(CameraUnavailable("the camera process ended"))
                    return
                if self._stopping.is_set() or reported:
                    continue  # drain until the child ends: nothing more is handed on
                kind = message[0]
                if kind == "frame" and self.on_frame is not None:
                    self.on_frame(Frame(*message[1:]))
                elif kind == "result":
                    self.on_result(ScanResult(*message[1:]))
                elif kind == "error":
                    reported = True
                    self.on_error(error_from_wire(message[1], message[2]))
        except Exception as exc:  # noqa: BLE001 - a callback's bug must not leave the child running
            log.error("camera listener failed: %s", type(exc).__name__)
            self._stopping.set()
            try:
                conn.send(("stop",))
            except OSError:
                pass
        finally:
            try:
                process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                log.warning("camera process did not stop; killed")
                process.kill()
                process.wait()
            conn.close()


def serve(conn, spec: str, fps: float, status_base_url: str, preview_width: int) -> None:
    """The child: a :class:`devices.camera.CameraReader` whose frames (made no wider than
    ``preview_width``), readings and errors go to ``conn``, until "stop" comes or the
    kiosk's end of the pipe closes (the kiosk ended)."""
    import cv2

    from devices.camera import CameraReader

    sending = threading.Lock()
    finished = threading.Event()

    def send(message) -> None:
        with sending:
            try:
                conn.send(message)
            except OSError:  # the kiosk is gone or has stopped listening
                finished.set()

    def on_frame(frame) -> None:
        camera_height, camera_width = height, width = frame.shape[:2]
        if width > preview_width:
            height, width = round(height * preview_width / width), preview_width
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
        send(("frame", frame.tobytes(), width, height, camera_width, camera_height))

    def on_error(error: CameraError) -> None:
        send(("error", type(error).__name__, str(error)))
        finished.set()

    reader = CameraReader(spec, fps=fps, status_base_url=status_base_url, on_frame=on_frame,
                          on_result=lambda r: send(("result", r.tracking_id, r.foreign)), on_error=on_error)

    def listen() -> None:
        try:
            while conn.recv()[0] != "stop":
                pass
        except (EOFError, OSError):
            pass
        finished.set()

    threading.Thread(target=listen, name="camera-stop", daemon=True).start()
    reader.start()
    finished.wait()
    reader.stop()
    conn.close()


def main(argv: list[str]) -> int:
    """The child's command line: FD SPEC FPS STATUS_BASE_URL PREVIEW_WIDTH (FD: its end of
    the socket pair the kiosk made)."""
    fd, spec, fps, status_base_url, preview_width = argv
    serve(Connection(int(fd)), spec, float(fps), status_base_url, int(preview_width))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
