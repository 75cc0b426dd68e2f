"""A label's text is held once, in its texture (screens/text_surfaces.py, issue 17).

Kivy 2.3's SDL2 text provider kept each label's rendered SDL surface for the label's
life, a second copy of its pixels. Here real labels are rendered in the test window
(Mesa's llvmpipe keeps textures in this process's memory, as the soak benchmark's kiosk
does) and the process's anonymous memory is read before and after: it grows by about the
textures' own bytes, not twice that."""
from __future__ import annotations

import gc

import pytest

pytestmark = pytest.mark.ui

LABELS = 32


def _rss_anon_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def _rendered(text: str):
    """A label of the text provider (Kivy's core Label, which the widgets draw with; no kv
    rule of the app sizes it), its texture drawn once, as a frame does."""
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(text=text, font_size=110)
    label.refresh()
    label.texture.bind()  # the text is rendered into the texture now
    return label


def test_rendered_labels_keep_their_pixels_once(kivy_window):
    from screens.text_surfaces import drop_rendered_text_surfaces

    assert drop_rendered_text_surfaces() is True  # the SDL2 provider is the one in use here
    _rendered("Laporan Anda sudah kami terima")  # the font loaded, and one label drawn
    gc.collect()
    before = _rss_anon_bytes()
    labels = [_rendered(f"Laporan nomor {n:02d} sudah kami terima") for n in range(LABELS)]
    gc.collect()
    grown = _rss_anon_bytes() - before
    pixels = sum(label.texture.width * label.texture.height * 4 for label in labels)
    assert pixels > 20 * 2**20  # big enough to see: nearly 1 MiB a label
    assert grown < 1.4 * pixels, f"{grown / 2**20:.1f} MiB for {pixels / 2**20:.1f} MiB of textures"
