"""Time, said once: the wall clock in UTC and the kabupaten's local time zone.

Everything is stored and sent in UTC; citizens read dates and times in WIB (Western
Indonesia Time, UTC+7: Kabupaten Barito Utara). A kabupaten in WITA or WIT changes
:data:`LOCAL_TZ` here and nowhere else.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

#: Kabupaten Barito Utara keeps Western Indonesia Time (printed as "WIB").
LOCAL_TZ = ZoneInfo("Asia/Jakarta")
LOCAL_TZ_LABEL = "WIB"


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def local_date(moment: dt.datetime) -> dt.date:
    """The kabupaten's calendar date at ``moment``."""
    return moment.astimezone(LOCAL_TZ).date()
