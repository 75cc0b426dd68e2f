"""Whether a label's whole text is shown: laid out again at the label's width, in its font,
it must fit inside the label, and the label inside the window. Checked at each screen size
a kiosk is sold with, so a message clipped at the bottom cannot come back unnoticed."""
from __future__ import annotations

import contextlib
from pathlib import Path

from kivy.core.text import Label as CoreLabel
from kivy.core.window import Window
from kivy.graphics import ClearBuffers, ClearColor, Fbo, Scale, Translate

from tests.support.ui_driver import ARTIFACTS

#: The common kiosk touchscreen sizes; the test window's own size comes first.
KIOSK_SIZES = ((1280, 800), (1366, 768))


def needed_size(label) -> tuple[int, int]:
    """The size ``label``'s full text takes wrapped at the label's width, however the label
    itself is set up (a fixed ``text_size`` drops the lines that do not fit, so its own
    texture cannot tell)."""
    from kivy.core.text.markup import MarkupLabel

    core = (MarkupLabel if getattr(label, "markup", False) else CoreLabel)(text=label.text, font_size=label.font_size, font_name=label.font_name, bold=label.bold,
                     italic=label.italic, halign=label.halign, line_height=label.line_height,
                     padding=label.padding, text_size=(label.width, None))
    core.refresh()
    return core.texture.size


def assert_text_fits(label) -> None:
    """The label shows every line of its text, and the label lies inside the window."""
    width, height = needed_size(label)
    assert width <= label.width + 1 and height <= label.height + 1, (
        f"{label.text[:40]!r}... needs {width}x{height} px, its label is {label.width:.0f}x{label.height:.0f} "
        f"at {Window.width}x{Window.height}")
    x, y = label.to_window(label.x, label.y)
    assert x >= 0 and y >= 0 and x + label.width <= Window.width + 1 and y + label.height <= Window.height + 1, (
        f"label at ({x:.0f}, {y:.0f}) size {label.width:.0f}x{label.height:.0f} "
        f"leaves the {Window.width}x{Window.height} window")


@contextlib.contextmanager
def window_size(kiosk, size: tuple[int, int]):
    """The test window at ``size`` (laid out again), then back to what it was."""
    before = tuple(Window.size)
    Window.size = size
    try:
        kiosk.wait_until(lambda: tuple(Window.size) == tuple(size), what=f"the window at {size}")
        kiosk.frames(3)
        yield
    finally:
        Window.size = before
        kiosk.wait_until(lambda: tuple(Window.size) == before, what="the window back to its size")
        kiosk.frames(3)


def picture(kiosk, name: str) -> Path:
    """What the window shows (the app, its overlays and the docked keyboard, in the order
    the window draws them), drawn into an image of the window's current size (the headless
    window's surface keeps the size it was made with, so its screenshot would not)."""
    target = ARTIFACTS / kiosk.app.lang / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    kiosk.frames(2)
    fbo = Fbo(size=(int(Window.width), int(Window.height)), with_stencilbuffer=True)
    with fbo:
        ClearColor(*Window.clearcolor)
        ClearBuffers()
        Scale(1, -1, 1)
        Translate(0, -Window.height, 0)
    # A canvas has one parent: take each out of the window's canvas while the Fbo draws
    # it, and put it back where it was (as Kivy's Widget.export_as_image does). Left in
    # both, the window went on drawing this app under every later test's.
    drawn = sorted((Window.canvas.indexof(child.canvas), child.canvas) for child in Window.children
                   if Window.canvas.indexof(child.canvas) > -1)
    for _index, canvas in reversed(drawn):
        Window.canvas.remove(canvas)
    try:
        for _index, canvas in drawn:
            fbo.add(canvas)
        fbo.draw()
        fbo.texture.save(str(target), flipped=False)
        for _index, canvas in drawn:
            fbo.remove(canvas)
    finally:
        for index, canvas in drawn:
            Window.canvas.insert(index, canvas)
    return target


def assert_fits_at_kiosk_sizes(kiosk, label, name: str) -> None:
    """:func:`assert_text_fits` at every kiosk size, with a picture of each."""
    for size in KIOSK_SIZES:
        with window_size(kiosk, size):
            assert_text_fits(label)
            picture(kiosk, f"{name}-{size[0]}x{size[1]}")
