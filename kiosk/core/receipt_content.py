"""Turn a saved report into what its receipt says, in the citizen's language."""
from __future__ import annotations

from kiosk.core import reference
from kiosk.core.domain import SavedReport
from kiosk.kernel.i18n import gettext_for
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
    )


def status_url(base: str, tracking_id: str) -> str:
    """``<status base URL>/<Tracking ID>`` when a public status page is configured, else the bare ID."""
    return f"{base.rstrip('/')}/{tracking_id}" if base else tracking_id
