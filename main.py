"""Entry point of the bundled kiosk (PyInstaller) and of ``python main.py``."""
import sys

from kiosk.launcher import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["camera-serve"]:  # the bundle as the camera's process (devices/camera_process.py)
        from devices.camera_process import main as camera_main

        sys.exit(camera_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:] or ["run"]))
