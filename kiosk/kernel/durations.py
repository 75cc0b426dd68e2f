"""A length of time in the words a citizen or an officer reads: "1 menit 20 detik".

Shared by the kiosk's review (a recorded complaint's length) and the central's workbench
(the player's caption); the words are msgids of the one catalog."""
from __future__ import annotations

from typing import Callable

from kiosk.kernel.i18n import N_

#: What the review and the workbench say of a recorded complaint.
VOICE_LINE = N_("Voice recording, {duration}")


def duration_words(seconds: float, gettext: Callable[[str], str]) -> str:
    """``seconds`` rounded to whole seconds (at least one), as minutes and seconds."""
    minutes, rest = divmod(max(1, round(seconds)), 60)
    if not minutes:
        return gettext(N_("{seconds} s")).format(seconds=rest)
    if not rest:
        return gettext(N_("{minutes} min")).format(minutes=minutes)
    return gettext(N_("{minutes} min {seconds} s")).format(minutes=minutes, seconds=rest)


def voice_line(seconds: float, gettext: Callable[[str], str]) -> str:
    """"Rekaman suara, 1 menit 20 detik"."""
    return gettext(VOICE_LINE).format(duration=duration_words(seconds, gettext))
