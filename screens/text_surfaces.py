"""Each label's text in memory once, not twice (issue 17, endurance).

Kivy 2.3's SDL2 text provider (``kivy.core.text.text_sdl2.LabelSDL2``) renders a label's
text into an SDL surface, copies the pixels out for the texture, and then keeps the
surface in ``self._surface`` for as long as the label lives; nothing reads it again (the
next render makes a new one; a texture lost with the GL context is filled again by a new
render). A label's pixels, width x height x 4 bytes, thus stayed twice in memory: once in
its texture and once in that surface. In the kiosk, with every screen built, 18.7 MiB of
SDL surfaces were alive (heaptrack over the soak benchmark, 40 citizens), about a fifth
of everything the process had allocated with malloc.

:func:`drop_rendered_text_surfaces` lets the provider free the surface as soon as the
pixels are copied out. Done once per process, before the first label renders; another
text provider (``KIVY_TEXT``) is left alone.
"""
from __future__ import annotations

import functools


def drop_rendered_text_surfaces() -> bool:
    """Free each label's SDL surface once its pixels are copied out; whether the SDL2
    text provider is the one in use (and now does so)."""
    from kivy.core.text import Label as CoreLabel

    try:
        from kivy.core.text.text_sdl2 import LabelSDL2
    except ImportError:  # SDL2_ttf missing: Kivy uses another provider
        return False
    if not issubclass(CoreLabel, LabelSDL2):
        return False
    render_end = LabelSDL2._render_end
    if getattr(render_end, "drops_surface", False):
        return True

    @functools.wraps(render_end)
    def _render_end(self):
        try:
            return render_end(self)  # the pixels, copied into an ImageData for the texture
        finally:
            self._surface = None  # the SDL surface they came from, freed now

    _render_end.drops_surface = True
    LabelSDL2._render_end = _render_end
    return True
