"""ASGI entry for several workers: ``uvicorn central.asgi:app --workers N`` with
``CENTRAL_DATABASE_URL`` set, ``CENTRAL_DOCS=1`` for ``/docs``, ``CENTRAL_SECRET_KEY_FILE``
for the key that seals TOTP secrets (``python -m central serve --workers N`` does this;
uvicorn's own ``--proxy-headers`` and ``--forwarded-allow-ips`` say which proxies to trust).
``CENTRAL_OPEN311_ISSUER`` for the central's issuer code of Open311 Tracking IDs;
``CENTRAL_FORWARDING_FILE`` for the forwarding file (docs/FORWARDING.md);
``CENTRAL_SMS_FILE`` for the SMS file (docs/SMS.md);
``CENTRAL_HOLIDAYS_FILE`` (deprecated: ``python -m central holidays import FILE`` once)
is imported into the database at start, as ``--holidays-file`` is."""
import os

from central.app import create_app
from central.db import default_database_url
from central.open311 import DEFAULT_ISSUER

_url = os.environ.get("CENTRAL_DATABASE_URL") or default_database_url()
if os.environ.get("CENTRAL_HOLIDAYS_FILE"):
    from central.__main__ import import_holidays_file

    import_holidays_file(_url, os.environ["CENTRAL_HOLIDAYS_FILE"])
app = create_app(_url, docs=os.environ.get("CENTRAL_DOCS") == "1",
                 secret_key_file=os.environ.get("CENTRAL_SECRET_KEY_FILE"),
                 open311_issuer=os.environ.get("CENTRAL_OPEN311_ISSUER") or DEFAULT_ISSUER,
                 forwarding_file=os.environ.get("CENTRAL_FORWARDING_FILE") or None,
                 sms_file=os.environ.get("CENTRAL_SMS_FILE") or None)
