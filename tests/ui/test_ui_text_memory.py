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


def test_rendered_labels_keep_their_pixels_once(kivy_window):
    from kivy.uix.label import Label

    from screens.text_surfaces import drop_rendered_text_surfaces

    assert drop_rendered_text_surfaces() is True  # the SDL2 provider is the one in use here
    warm = Label(text="Laporan Anda sudah kami terima", font_size=110)
    warm.texture_update()
    warm.texture.bind()  # the font loaded, and one label drawn
    gc.collect()
    before = _rss_anon_bytes()
    labels = []
    for n in range(LABELS):
        label = Label(text=f"Laporan nomor {n:02d} sudah kami terima", font_size=110)
        label.texture_update()
        label.texture.bind()  # as drawing it does: the text is rendered into the texture now
        labels.append(label)
    gc.collect()
    grown = _rss_anon_bytes() - before
    pixels = sum(label.texture.width * label.texture.height * 4 for label in labels)
    assert pixels > 20 * 2**20  # big enough to see: nearly 1 MiB a label
    assert grown < 1.4 * pixels, f"{grown / 2**20:.1f} MiB for {pixels / 2**20:.1f} MiB of textures"
