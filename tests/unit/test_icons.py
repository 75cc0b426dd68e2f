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


def test_every_kind_and_every_seeded_category_has_its_own_pictogram():
    import json

    import assets
    from kiosk.kernel.wire import ReportKind
    from screens.icons import CATEGORY_ICONS, KIND_ICONS, OTHER_CATEGORY

    assert set(KIND_ICONS) == {kind.value for kind in ReportKind}
    seeded = {c["code"] for c in json.loads(assets.seed_file().read_text(encoding="utf-8"))["categories"]}
    assert seeded <= set(CATEGORY_ICONS), seeded - set(CATEGORY_ICONS)
    names = list(KIND_ICONS.values()) + list(CATEGORY_ICONS.values()) + [OTHER_CATEGORY]
    assert all(name in ICONS for name in names)
    distinct = [name for code, name in CATEGORY_ICONS.items() if code != "LAINNYA"]
    assert len(set(distinct)) == len(distinct) and OTHER_CATEGORY not in distinct  # each recognisable
