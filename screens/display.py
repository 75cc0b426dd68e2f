"""The display settings of the kiosk, set before any Kivy window exists: window size,
fullscreen, the docked keyboard, the frame rate cap. Imports no Kivy window at module level."""
from __future__ import annotations

import os
from pathlib import Path

from kiosk.runtime.config import Config

KV_DIR = Path(__file__).resolve().parent
ACTIVE_FPS = 60


def configure_kivy(config: Config) -> None:
    """Window size, fullscreen, docked keyboard; before any Kivy window exists."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy logs through Python's logging into our handlers (cli.setup_logging) instead of
    # installing its own console and file handlers.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # The kiosk needs no X selection tools (xclip/xsel): SDL2's own clipboard is enough.
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    from kivy.config import Config as KivyConfig

    KivyConfig.set("graphics", "width", str(config.window_width))
    KivyConfig.set("graphics", "height", str(config.window_height))
    KivyConfig.set("graphics", "fullscreen", "auto" if config.fullscreen else "0")
    KivyConfig.set("graphics", "borderless", "1" if config.fullscreen else "0")
    KivyConfig.set("graphics", "resizable", "0" if config.fullscreen else "1")
    KivyConfig.set("graphics", "maxfps", str(ACTIVE_FPS))
    KivyConfig.set("kivy", "keyboard_mode", "systemanddock")
    # Our own layout from the first frame (screens.common.KioskKeyboard switches per field).
    KivyConfig.set("kivy", "keyboard_layout", str(KV_DIR / "keyboard_text.json"))
    KivyConfig.set("kivy", "exit_on_escape", "0")
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")
    # Lockdown: no cursor on touch hardware (closing is refused in KioskApp).
    KivyConfig.set("graphics", "show_cursor", "0" if config.lockdown else "1")
    # No cursor blink while idle: the only focused fields are on filing screens.
    KivyConfig.set("kivy", "log_level", "info")
