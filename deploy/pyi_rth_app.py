# PyInstaller runtime hook of kiosk.spec: the kiosk's own code is not frozen into the
# runtime but lives as files in app/ beside the program (docs/DEPLOY.md, "Update"), so a
# code-only upgrade replaces app/ and nothing else. Runs before main.py.
import os
import sys

_app = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), "app")
if os.path.isdir(_app):
    sys.path.insert(0, _app)
del _app
