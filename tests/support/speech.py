"""The messages the kiosk itself may speak, for the speech tests."""
from __future__ import annotations

from tests.support.i18n_scan import source_msgids

#: Folders of the kiosk's own code: a msgid used only under central/ is the workbench's.
KIOSK_DIRS = ("kiosk", "screens", "devices", "sync_queue")


def kiosk_msgids() -> list[str]:
    """Every msgid the kiosk's code marks for translation (the screens' words, errors,
    labels), sorted; the central's workbench strings are left out."""
    return sorted(msgid for msgid, paths in source_msgids().items()
                  if any(path.parts[0] in KIOSK_DIRS for path in paths))
