"""ASGI entry for several workers: ``uvicorn central.asgi:app --workers N`` with
``CENTRAL_DATABASE_URL`` set (``python -m central serve --workers N`` does this)."""
import os

from central.app import create_app
from central.db import default_database_url

app = create_app(os.environ.get("CENTRAL_DATABASE_URL") or default_database_url())
