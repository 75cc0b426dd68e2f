"""Entry point of the bundled kiosk (PyInstaller) and of ``python main.py``.

A bundle freezes this file into its runtime, which a code-only upgrade does not replace:
it only hands its arguments on. The words that start one of the kiosk's children are
``kiosk.launcher.CHILDREN``, in the code that upgrades replace."""
import sys

from kiosk.launcher import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["run"]))
