"""Entry point of the bundled kiosk (PyInstaller) and of ``python main.py``."""
import sys

from kiosk.launcher import main

if __name__ == "__main__":
    from devices.camera_process import CHILD_WORD, main as camera_main

    if sys.argv[1:2] == [CHILD_WORD]:  # the bundle as the camera's process (devices/camera_process.py)
        sys.exit(camera_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:] or ["run"]))
