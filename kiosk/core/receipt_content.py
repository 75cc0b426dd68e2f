"""Turn a saved report into what its receipt says, in the citizen's language."""
from __future__ import annotations

from kiosk.core import reference
from kiosk.core.domain import SavedReport
from kiosk.kernel.i18n import N_, gettext_for
from kiosk.core.labels import KIND_LABELS
from kiosk.core.receipt import ReceiptContent


def receipt_content(saved: SavedReport, env, language: str, *, copy: bool = False) -> ReceiptContent:
    _ = gettext_for(language)
    draft = saved.draft
    category = next(
        (c.label for c in reference.categories(env.store, language) if c.code == draft.category_code),
        draft.category_code or "",
    )
    return ReceiptContent(
        tracking_id=saved.tracking_id,
        created_at=saved.created_at,
        institution=env.config.institution_name,
        kiosk_location=env.config.kiosk_location,
        kind_label=_(KIND_LABELS[draft.kind]),
        category_label=category,
        title=draft.title,
        confidential=draft.confidential,
        language=language,
        copy=copy,
        qr_payload=status_url(env.config.status_base_url, saved.tracking_id),
        status_address=status_url(env.config.status_base_url, saved.tracking_id) if env.config.status_base_url else "",
        sms_when_answered=draft.sms_consent,
        sms_number=env.config.sms_number,
    )


def status_url(base: str, tracking_id: str) -> str:
    """``<status base URL>/<Tracking ID>`` when a public status page is configured, else the bare ID."""
    return f"{base.rstrip('/')}/{tracking_id}" if base else tracking_id


#: What the receipt screen says under the number, before and after the central confirmed the report.
KEPT_UNTIL_SENT = N_("Your report is kept safely on this kiosk and is sent to the central office as soon as the network"
                     " allows.")
DELIVERED = N_("Your report has been sent to the central office.")


def delivery_note(reports, tracking_id: str | None) -> str:
    """The msgid the receipt screen shows about delivery: "kept ... sent as soon as the
    network allows" until the central confirmed the report, then "sent"."""
    from sync_queue.outbox import OutboxState

    found = reports.find(tracking_id) if tracking_id else None
    return DELIVERED if found is not None and found.outbox_state == OutboxState.SENT else KEPT_UNTIL_SENT
