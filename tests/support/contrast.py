"""WCAG 2.x contrast, measured from what the window shows (not from the .kv numbers).

Two measurements on a frame (an RGB image of the window, rows top-down as in a PNG):

- :func:`text_contrast`: a label's text against what is behind it. The crop is the
  label's text rectangle; the background is the crop's most common colour and the text
  colour a high percentile of the pixels that differ from it (robust to one stray pixel,
  and to the paler edges of antialiased glyphs).
- :func:`outline_contrast`: a control's outline against the page around it (WCAG 1.4.11).
  Along each side, the ring just outside the control is compared with the band 0-4 px
  inside its edge (its border line, or its fill when it has no line); the best contrast
  found along the side counts, and the median over the four sides is the control's.

:func:`frame` draws everything the window shows (the app, the docked keyboard, overlays)
at the window's current size; :func:`window_rect`, :func:`text_rect` and
:func:`visible_rect` map widgets to it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: WCAG 2.x: text (1.4.3) and the outlines of controls and their states (1.4.11).
TEXT_MIN = 4.5
OUTLINE_MIN = 3.0


# -- WCAG arithmetic ---------------------------------------------------------------------
def _linear(channel):
    """sRGB channel(s) in 0..1 to linear light (WCAG 2.x's formula)."""
    channel = np.asarray(channel, dtype=np.float64)
    return np.where(channel <= 0.04045, channel / 12.92, ((channel + 0.055) / 1.055) ** 2.4)


def relative_luminance(rgb) -> float:
    """The relative luminance of one colour, given as 0..1 floats or 0..255 ints."""
    values = np.asarray(rgb[:3], dtype=np.float64)
    if values.max() > 1.0 or np.issubdtype(np.asarray(rgb[:3]).dtype, np.integer):
        values = values / 255.0
    r, g, b = _linear(values)
    return float(0.2126 * r + 0.7152 * g + 0.0722 * b)


def ratio_of_luminances(first: float, second: float) -> float:
    light, dark = max(first, second), min(first, second)
    return (light + 0.05) / (dark + 0.05)


def contrast_ratio(first, second) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    return ratio_of_luminances(relative_luminance(first), relative_luminance(second))


#: Linear light of each 8-bit sRGB value: a table, so a frame is converted by indexing.
_LINEAR_8BIT = _linear(np.arange(256) / 255.0)


def luminance_image(image) -> np.ndarray:
    """Per-pixel relative luminance of an RGB(A) image (PIL image or uint8 array); a 2-D
    array is taken as luminance already (measure many controls on one frame cheaply)."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return pixels
    if pixels.dtype != np.uint8:
        return _linear(pixels[..., :3].astype(np.float64) / 255.0) @ np.array([0.2126, 0.7152, 0.0722])
    return _LINEAR_8BIT[pixels[..., :3]] @ np.array([0.2126, 0.7152, 0.0722])


# -- measuring a crop --------------------------------------------------------------------
def _crop(image: np.ndarray, rect) -> np.ndarray:
    """``rect`` (x0, y0, x1, y1) in window coordinates, y up, as rows top-down."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = rect
    c0, c1 = max(0, round(x0)), min(width, round(x1))
    r0, r1 = max(0, height - round(y1)), min(height, height - round(y0))
    return image[r0:r1, c0:c1]


def text_contrast(image, rect) -> float | None:
    """Contrast of the text drawn in ``rect`` (window coordinates, y up) of ``image``
    against its background; None when the crop holds no text at all."""
    crop = _crop(np.asarray(image)[..., :3], rect)
    if crop.shape[0] < 2 or crop.shape[1] < 2:
        return None
    packed = crop.reshape(-1, 3).astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.int32)
    colours, counts = np.unique(packed, return_counts=True)  # one number a colour: a fast 1-D sort
    common = int(colours[counts.argmax()])
    bg_lum = relative_luminance(np.array([common >> 16, (common >> 8) & 255, common & 255], dtype=np.int64))
    offset = luminance_image(crop) - bg_lum
    distance = np.abs(offset)
    # The text's core: the strongest 2x2 block of pixels away from the background (a
    # stroke, not a stray pixel). A shaded background (a gradient) is far weaker.
    block = np.minimum.reduce([distance[:-1, :-1], distance[1:, :-1], distance[:-1, 1:], distance[1:, 1:]])
    row, col = np.unravel_index(block.argmax(), block.shape)
    strongest = block[row, col]
    if strongest < 0.01:
        return None
    side = np.sign(offset[row:row + 2, col:col + 2].sum())
    # Ink: the pixels on that side at least 40% as far from the background; the glyphs'
    # paler antialiased edges are left out, and the 80th percentile of what is left is
    # the text's own colour (robust to a stray pixel).
    ink = distance[(np.sign(offset) == side) & (distance >= 0.4 * strongest)]
    text_lum = bg_lum + side * float(np.percentile(ink, 80))
    return ratio_of_luminances(bg_lum, min(max(text_lum, 0.0), 1.0))


def outline_contrast(image, rect, *, outside: int = 3, inside: int = 5, corner: int = 8) -> float | None:
    """Contrast of a control's outline against what surrounds it: per side, the ring
    ``outside`` px just outside ``rect`` against the band ``inside`` px inside its edge,
    the best along the side (its 90th percentile), the median of the four sides. Sides
    outside the image are left out; None when none is left. ``image`` may be the frame's
    :func:`luminance_image`, computed once for all its controls."""
    lum = luminance_image(image)
    height, width = lum.shape
    x0, y0, x1, y1 = rect
    c0, c1 = round(x0), round(x1)
    r0, r1 = height - round(y1), height - round(y0)  # rows top-down
    sides = []
    # (outside band, inside band) as arrays with the position along the side first.
    if c0 - outside >= 0:
        rows = slice(r0 + corner, r1 - corner)
        sides.append((lum[rows, c0 - outside:c0], lum[rows, c0:c0 + inside]))
    if c1 + outside <= width:
        rows = slice(r0 + corner, r1 - corner)
        sides.append((lum[rows, c1:c1 + outside], lum[rows, c1 - inside:c1]))
    if r0 - outside >= 0:
        cols = slice(c0 + corner, c1 - corner)
        sides.append((lum[r0 - outside:r0, cols].T, lum[r0:r0 + inside, cols].T))
    if r1 + outside <= height:
        cols = slice(c0 + corner, c1 - corner)
        sides.append((lum[r1:r1 + outside, cols].T, lum[r1 - inside:r1, cols].T))
    results = []
    for out_band, in_band in sides:
        if out_band.size == 0 or in_band.size == 0:
            continue
        page = np.median(out_band, axis=1)[:, None]
        light = np.maximum(page, in_band)
        dark = np.minimum(page, in_band)
        best = ((light + 0.05) / (dark + 0.05)).max(axis=1)
        results.append(float(np.percentile(best, 90)))
    return float(np.median(results)) if results else None


# -- widgets on the window ---------------------------------------------------------------
def window_rect(widget) -> tuple[float, float, float, float]:
    """The widget's box in window coordinates (through scatters, such as the keyboard)."""
    xa, ya = widget.to_window(widget.x, widget.y)
    xb, yb = widget.to_window(widget.right, widget.top)
    return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)


def text_rect(label) -> tuple[float, float, float, float]:
    """Where ``label`` draws its texture, in window coordinates: the texture's size centred
    on the label, as Kivy's Label rule draws it."""
    tw, th = label.texture_size
    x = int(label.center_x - tw / 2.0)
    y = int(label.center_y - th / 2.0)
    xa, ya = label.to_window(x, y)
    xb, yb = label.to_window(x + tw, y + th)
    return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)


def _intersect(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def visible_rect(widget, rect, covers=()) -> tuple[float, float, float, float] | None:
    """The part of ``rect`` (the widget's, in window coordinates) that is shown: inside
    the window and every scroll view around it, the widget and its parents not
    transparent, and not under one of the rectangles in ``covers`` (the keyboard). None
    when nothing of it is shown."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    shown = _intersect(rect, (0, 0, Window.width, Window.height))
    node = widget
    while shown is not None and node is not None and node is not Window:
        if node.opacity <= 0:
            return None
        parent = node.parent
        if isinstance(parent, ScrollView):
            shown = _intersect(shown, window_rect(parent))
        node = parent
    for cover in covers:
        if shown is not None and _intersect(shown, cover) is not None:
            return None
    return shown


def frame(kiosk, name: str) -> tuple[np.ndarray, Path]:
    """Everything the window shows (the app, then whatever sits on it: the docked keyboard,
    an overlay) drawn into an image of the window's current size; saved under
    tests/artifacts/<lang>/contrast/<name>.png. Rows top-down."""
    from kivy.core.window import Window
    from kivy.graphics import ClearBuffers, ClearColor, Fbo, Scale, Translate
    from PIL import Image

    from tests.support.ui_driver import ARTIFACTS

    target = ARTIFACTS / kiosk.app.lang / "contrast" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    kiosk.frames(2)
    width, height = int(Window.width), int(Window.height)
    fbo = Fbo(size=(width, height), with_stencilbuffer=True)
    with fbo:
        ClearColor(*Window.clearcolor)
        ClearBuffers()
        Scale(1, -1, 1)
        Translate(0, -height, 0)
    # A canvas has one parent: each is lent to the Fbo and put back where it was (as
    # text_fit.picture does for the app's).
    lent = [(Window.canvas.indexof(child.canvas), child.canvas) for child in reversed(Window.children)]
    lent = [(index, canvas) for index, canvas in lent if index > -1]
    for _index, canvas in lent:
        Window.canvas.remove(canvas)
    try:
        for _index, canvas in lent:
            fbo.add(canvas)
        fbo.draw()
        # Rows as drawn (the flip above makes the first one the window's top).
        pixels = np.frombuffer(fbo.texture.pixels, dtype=np.uint8).reshape(height, width, 4)[..., :3].copy()
        for _index, canvas in lent:
            fbo.remove(canvas)
    finally:
        for index, canvas in sorted(lent, key=lambda pair: pair[0]):
            Window.canvas.insert(index, canvas)
    Image.fromarray(pixels).save(target, compress_level=1)  # to look at; fast, still lossless
    return pixels, target
