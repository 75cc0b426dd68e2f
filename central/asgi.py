"""ASGI entry for several workers: ``uvicorn central.asgi:app --workers N`` with
``CENTRAL_DATABASE_URL`` set, ``CENTRAL_HOLIDAYS_FILE`` for the kabupaten's calendar and
``CENTRAL_DOCS=1`` for ``/docs``, ``CENTRAL_SECRET_KEY_FILE`` for the key that seals TOTP
secrets (``python -m central serve --workers N`` does this;
uvicorn's own ``--proxy-headers`` and ``--forwarded-allow-ips`` say which proxies to trust)."""
import os

from central.app import create_app
from central.db import default_database_url
from kiosk.kernel.workdays import NATIONAL, WorkCalendar

_holidays = os.environ.get("CENTRAL_HOLIDAYS_FILE")
app = create_app(os.environ.get("CENTRAL_DATABASE_URL") or default_database_url(),
                 docs=os.environ.get("CENTRAL_DOCS") == "1",
                 calendar=WorkCalendar.from_file(_holidays) if _holidays else NATIONAL,
                 secret_key_file=os.environ.get("CENTRAL_SECRET_KEY_FILE"))
