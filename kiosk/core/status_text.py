"""Words for the local status lookup (before the central system is reachable)."""
from __future__ import annotations

from kiosk.kernel.clock import LOCAL_TZ
from kiosk.kernel.i18n import gettext_for
from kiosk.kernel.i18n import long_date
from kiosk.kernel.tracking_id import ALPHABET, format_tracking_id
from sync_queue.outbox import OutboxState



def keypad_symbols() -> tuple[str, ...]:
    return tuple(ALPHABET)  # Crockford base32: no I, L, O, U


def group_typed(typed: str) -> str:
    """Show what is typed on the keypad in the receipt's 4-5-5 groups."""
    parts = [typed[:4], typed[4:9], typed[9:]]
    return "-".join(p for p in parts if p)


def describe_local_status(status, language: str) -> str:
    """What this kiosk knows about one of its reports: saved, waiting or sent."""
    _ = gettext_for(language)
    local = status.created_at.astimezone(LOCAL_TZ)
    saved = _("Report {id} was saved on this kiosk on {date} at {time} WIB.").format(
        id=format_tracking_id(status.tracking_id), date=long_date(local.date(), language), time=local.strftime("%H:%M")
    )
    if status.outbox_state == OutboxState.SENT:
        return saved + "\n" + _("It has been sent to the central office.")
    return saved + "\n" + _("It is waiting to be sent to the central office; this happens by itself when the network is available.")
