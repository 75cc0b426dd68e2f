"""Scan screen: live preview from the camera, a guide frame, and the status of the
receipt whose QR code is read. No camera, or a failing one: it says so and offers typing."""
from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from devices.camera_process import CameraProcess

log = logging.getLogger(__name__)

#: Seconds the "this is not a receipt" message stays before scanning on.
FOREIGN_MESSAGE_S = 3.0


class ScanScreen(Screen):
    preview = ObjectProperty(None, allownone=True)
    message = StringProperty("aim")  # aim, foreign, read, no_camera
    #: What reads the camera: its own process (``devices.camera_process``), started as the
    #: screen is entered and ended as it is left. A class with the same contract may stand
    #: in (``benchmarks/probe.py`` times the scan path in one process with it).
    camera_class = CameraProcess

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._reader: CameraProcess | None = None
        self._texture: Texture | None = None
        self._frame = None
        self._handled = False

    def on_pre_enter(self, *args):
        config = App.get_running_app().kiosk_config
        self.message, self._handled = "aim", False
        self._reader = self.camera_class(
            config.camera_source, fps=config.camera_fps, status_base_url=config.status_base_url,
            on_frame=self._frame_arrived, on_result=lambda r: Clock.schedule_once(lambda _dt: self._result(r), 0),
            on_error=lambda e: Clock.schedule_once(lambda _dt: self._camera_failed(e), 0),
        )
        self._reader.start()
        self._preview_event = Clock.schedule_interval(self._show_frame, 1 / 15)

    def on_leave(self, *args):
        self._release()

    def _release(self) -> None:
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        if getattr(self, "_preview_event", None) is not None:
            self._preview_event.cancel()
            self._preview_event = None
        self._frame = None

    def _frame_arrived(self, frame) -> None:
        self._frame = frame  # picked up on the UI thread by _show_frame

    def _show_frame(self, _dt) -> None:
        frame = self._frame
        if frame is None:
            return
        self._frame = None
        size = (frame.width, frame.height)
        if self._texture is None or self._texture.size != size:
            self._texture = Texture.create(size=size, colorfmt="bgr")  # one texture, reused
            self._texture.flip_vertical()
        self._texture.blit_buffer(frame.pixels, colorfmt="bgr", bufferfmt="ubyte")
        self.preview = self._texture
        self.ids.preview.canvas.ask_update()

    def _result(self, result) -> None:
        if self._handled or self.manager is None or self.manager.current != self.name:
            return
        if result.tracking_id:
            self._handled = True
            self.message = "read"
            self._release()
            App.get_running_app().show_status_of(result.tracking_id)
        else:
            self.message = "foreign"
            Clock.schedule_once(lambda _dt: setattr(self, "message", "aim") if self.message == "foreign" else None,
                                FOREIGN_MESSAGE_S)

    def _camera_failed(self, error) -> None:
        log.warning("camera unavailable: %s", error)
        self._release()
        self.message = "no_camera"

    @staticmethod
    def message_text(lang: str, message: str) -> str:
        from screens.common import tr

        if message == "foreign":
            return tr(lang, "This is not a report receipt.")
        if message == "no_camera":
            return tr(lang, "The camera is not available. Please type the report number.")
        if message == "read":
            return tr(lang, "Receipt read.")
        return tr(lang, "Hold the QR code on your receipt up to the camera.")

    def switch_language(self, language: str) -> None:
        """The top bar's language switch: the camera goes on reading."""
        App.get_running_app().set_language(language)

    def type_instead(self):
        App.get_running_app().show_status_of(None)

    def back(self):
        App.get_running_app().back_to_welcome()  # still in the citizen's language

    def reset(self):
        self._release()
        self.preview = None
        self.message = "aim"
