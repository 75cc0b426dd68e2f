"""Entry point of the bundled kiosk (PyInstaller) and of ``python main.py``."""
import sys

from kiosk.launcher import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["run"]))
