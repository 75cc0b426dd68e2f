"""Entry point of the bundled kiosk (PyInstaller) and of ``python main.py``."""
import sys

from kiosk.launcher import main

#: The bundle as one of the kiosk's children (no ``python -m`` in a bundle): the word
#: each module's ``CHILD_WORD`` names, and that module, imported only for its own child.
CHILDREN = {"camera-serve": "devices.camera_process",  # the camera's process
            "store-migrate": "kiosk.core.store.migrate"}  # the database's migration, before the UI

if __name__ == "__main__":
    if sys.argv[1:2] and sys.argv[1] in CHILDREN:
        import importlib

        sys.exit(importlib.import_module(CHILDREN[sys.argv[1]]).main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:] or ["run"]))
