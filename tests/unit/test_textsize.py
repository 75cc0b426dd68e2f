"""Text sizes in millimetres on the panel (screens/textsize.py): the panel's pixel size from
its diagonal or as measured, and font sizes whose capitals are the role's millimetres."""
from __future__ import annotations

import pytest

from screens.textsize import CAP_HEIGHT_RATIO, MIN_CAP_MM, ROLES, TextSizes, font_px, mm_px, panel_mm_per_px


def test_a_15_6_inch_panel_at_1366x768_has_pixels_of_about_a_quarter_millimetre():
    assert panel_mm_per_px(0, 15.6, (1366, 768)) == pytest.approx(0.253, abs=0.001)
    assert panel_mm_per_px(0, 15.6, (1280, 800)) == pytest.approx(0.2625, abs=0.001)
    assert panel_mm_per_px(0, 15.6, (1920, 1080)) == pytest.approx(0.18, abs=0.001)


def test_a_measured_pixel_size_wins_over_the_diagonal():
    assert panel_mm_per_px(0.18, 15.6, (1366, 768)) == 0.18


@pytest.mark.parametrize("mm_per_px", [0.18, 0.253, 0.2625, 0.5])
def test_every_role_gives_capitals_at_least_its_millimetres_and_never_under_4_8(mm_per_px):
    for role, cap_mm in ROLES.items():
        px = font_px(cap_mm, mm_per_px)
        capitals_mm = px * CAP_HEIGHT_RATIO * mm_per_px
        assert cap_mm <= capitals_mm < cap_mm + mm_per_px, role  # rounded up by less than a pixel
        assert capitals_mm >= MIN_CAP_MM
    assert min(ROLES.values()) == ROLES["small"] >= MIN_CAP_MM


def test_smaller_pixels_need_proportionally_bigger_fonts():
    assert font_px(5.2, 0.18) / font_px(5.2, 0.2625) == pytest.approx(0.2625 / 0.18, rel=0.03)
    assert mm_px(12, 0.25) == pytest.approx(48)


def test_text_sizes_follow_the_window_and_the_configuration():
    """The dispatcher the kv rules bind to: configured from the config, followed on resize."""
    sizes = TextSizes()
    sizes.configure(mm_per_px=0, diagonal_inch=15.6, resolution=(1366, 768))
    at_1366 = sizes.body
    assert at_1366 == font_px(ROLES["body"], panel_mm_per_px(0, 15.6, (1366, 768)))
    sizes.follow((1920, 1080))  # the same panel at full HD: smaller pixels, more of them per letter
    assert sizes.body > at_1366 and sizes.mm(12) == pytest.approx(12 / sizes.mm_per_px)
    sizes.configure(mm_per_px=0.18, diagonal_inch=15.6, resolution=(1366, 768))
    assert sizes.mm_per_px == 0.18 and sizes.body == font_px(ROLES["body"], 0.18)
    sizes.follow((1280, 800))  # measured: the resolution no longer matters
    assert sizes.mm_per_px == 0.18
