"""What uvicorn's access log may show of a request: who, the method, the path's shape and
the status; never a Tracking ID (it opens a report's status page and its objection form),
a search (officers search for names and words of complaints), or a secret a gateway puts
in its query (SMSSync's ``secret``, an Open311 client's ``api_key``).

``install()`` adds the filter to the ``uvicorn.access`` logger once per process, where the
app is made (``central.app.create_app``): uvicorn has configured its logging by then, in
every worker process.
"""
from __future__ import annotations

import logging
import re

#: A Tracking ID as a path or query holds it: canonical (14 symbols) or grouped with dashes.
_TRACKING_ID = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{4}-?[0-9A-Za-z]{5}-?[0-9A-Za-z]{5}(?![0-9A-Za-z])")
#: Query values that are a person's words or a secret.
_PRIVATE_VALUE = re.compile(r"(?i)([?&](?:q|secret|api_key|token|upstream_id)=)[^&#\s]*")


def quiet(path: str) -> str:
    """``path`` (with its query) as the access log may show it."""
    return _TRACKING_ID.sub("[tracking-id]", _PRIVATE_VALUE.sub(r"\1[hidden]", path))


class QuietAccessLog(logging.Filter):
    """uvicorn's access line (``'%s - "%s %s HTTP/%s" %d'``: client, method, path, version,
    status) with its path made :func:`quiet`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], quiet(args[2]), *args[3:])
        return True


def install() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietAccessLog) for f in logger.filters):
        logger.addFilter(QuietAccessLog())
