"""Every pictogram named in screens/icons.py has a glyph in the kiosk's icon font."""
from __future__ import annotations

import pytest
from PIL import ImageFont

from screens.icons import ICONS, icon_font

pytestmark = pytest.mark.unit


def test_every_icon_has_a_glyph():
    font = ImageFont.truetype(icon_font(), 64)
    missing = [name for name, code in ICONS.items() if font.getmask(chr(code)).getbbox() is None]
    assert not missing, f"no glyph in assets/fonts/kiosk-icons.ttf for {missing}: see assets/fonts/README.md"
    assert font.getmask(chr(0xF0001)).getbbox() is None  # a glyph not in the subset draws nothing
