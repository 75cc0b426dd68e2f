"""The contrast measurement the UI contrast test relies on, on images whose colours are known."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.support.contrast import (
    contrast_ratio, outline_contrast, relative_luminance, text_contrast,
)

pytestmark = pytest.mark.unit

WHITE, BLACK, GREY_77 = (255, 255, 255), (0, 0, 0), (0x77, 0x77, 0x77)


def window_rect(image: Image.Image, box):
    """A PIL box (left, top, right, bottom) as the window rectangle (y up) the measures take."""
    left, top, right, bottom = box
    return left, image.height - bottom, right, image.height - top


def text_image(ink, paper, *, size=40, text="Laporan Anda") -> Image.Image:
    image = Image.new("RGB", (420, 80), paper)
    ImageDraw.Draw(image).text((10, 12), text, fill=ink, font=ImageFont.load_default(size=size))
    return image


def test_wcag_luminance_and_ratio_of_known_colours():
    assert relative_luminance(WHITE) == pytest.approx(1.0)
    assert relative_luminance(BLACK) == pytest.approx(0.0)
    assert contrast_ratio(BLACK, WHITE) == pytest.approx(21.0)
    assert contrast_ratio(WHITE, BLACK) == pytest.approx(21.0)
    assert contrast_ratio(GREY_77, WHITE) == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) == pytest.approx(1.0)


@pytest.mark.parametrize(("ink", "paper", "expected"), [
    (BLACK, WHITE, 21.0), (WHITE, BLACK, 21.0), (GREY_77, WHITE, 4.48), ((0x59, 0x59, 0x59), WHITE, 7.0),
])
def test_text_contrast_of_antialiased_text(ink, paper, expected):
    """GIVEN text drawn antialiased (its glyph edges blend into the page) THEN the measure
    finds the text's own colour, not its paler edges."""
    image = text_image(ink, paper)
    assert text_contrast(np.asarray(image), window_rect(image, (0, 0, image.width, image.height))) \
        == pytest.approx(expected, rel=0.03)


def test_text_contrast_of_small_thin_text_and_a_stray_pixel():
    """GIVEN small grey text and one black pixel far off THEN the stray pixel does not
    make the text look darker than it is."""
    image = text_image(GREY_77, WHITE, size=22, text="Langkah 2 dari 5")
    image.putpixel((400, 70), BLACK)
    measured = text_contrast(np.asarray(image), window_rect(image, (0, 0, image.width, image.height)))
    assert measured == pytest.approx(4.48, rel=0.05)
    assert measured < 4.5 + 0.2


def test_text_contrast_on_a_coloured_fill_and_an_empty_crop():
    image = text_image(WHITE, (0x0A, 0x4F, 0x9C))
    assert text_contrast(np.asarray(image), window_rect(image, (0, 0, 420, 80))) == pytest.approx(
        contrast_ratio(WHITE, (0x0A, 0x4F, 0x9C)), rel=0.03)
    blank = Image.new("RGB", (100, 40), WHITE)
    assert text_contrast(np.asarray(blank), window_rect(blank, (0, 0, 100, 40))) is None


def test_the_crop_follows_window_coordinates_with_y_up():
    """GIVEN black text in the image's top half only THEN the window rectangle of the top
    half (high y) finds it and the one of the bottom half does not."""
    image = Image.new("RGB", (420, 160), WHITE)
    ImageDraw.Draw(image).text((10, 10), "Atas", fill=BLACK, font=ImageFont.load_default(size=40))
    pixels = np.asarray(image)
    assert text_contrast(pixels, (0, 80, 420, 160)) == pytest.approx(21.0, rel=0.03)
    assert text_contrast(pixels, (0, 0, 420, 80)) is None


def control(fill, line, *, line_width=2, page=WHITE, box=(40, 30, 240, 110)) -> tuple[np.ndarray, tuple]:
    image = Image.new("RGB", (280, 140), page)
    draw = ImageDraw.Draw(image)
    draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=fill)
    if line is not None:
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), outline=line, width=line_width)
    return np.asarray(image), window_rect(image, box)


def test_outline_of_a_two_pixel_border_line():
    """GIVEN a white button with a 2 px black border on a white page THEN 21:1; with a
    #777 line, about 4.48:1; with no line at all, 1:1."""
    pixels, rect = control(WHITE, BLACK)
    assert outline_contrast(pixels, rect) == pytest.approx(21.0)
    pixels, rect = control(WHITE, GREY_77)
    assert outline_contrast(pixels, rect) == pytest.approx(4.48, abs=0.01)
    pixels, rect = control(WHITE, None)
    assert outline_contrast(pixels, rect) == pytest.approx(1.0)


def test_outline_of_a_filled_control_without_a_line():
    blue = (0x0A, 0x4F, 0x9C)
    pixels, rect = control(blue, None, page=(0xF5, 0xF7, 0xFA))
    assert outline_contrast(pixels, rect) == pytest.approx(contrast_ratio(blue, (0xF5, 0xF7, 0xFA)), rel=0.01)


def test_outline_of_a_pale_fill_is_low():
    """The issue's finding: a yellow fill with no line is 1.68:1 against white."""
    pixels, rect = control((250, 191, 26), None)
    assert outline_contrast(pixels, rect) == pytest.approx(1.68, abs=0.02)


def test_outline_missing_on_one_side_counts_as_the_median_of_the_sides():
    """GIVEN a border drawn on three sides only THEN the median of the four sides still
    finds it; drawn on one side only, it does not."""
    image = Image.new("RGB", (280, 140), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 239, 109), outline=BLACK, width=2)
    draw.rectangle((238, 32, 239, 107), fill=WHITE)  # the right side taken away
    pixels = np.asarray(image)
    assert outline_contrast(pixels, window_rect(image, (40, 30, 240, 110))) == pytest.approx(21.0)
    image = Image.new("RGB", (280, 140), WHITE)
    ImageDraw.Draw(image).rectangle((40, 30, 41, 109), fill=BLACK)
    pixels = np.asarray(image)
    assert outline_contrast(pixels, window_rect(image, (40, 30, 240, 110))) == pytest.approx(1.0)


def test_outline_of_a_dashed_line_counts_its_dashes():
    image = Image.new("RGB", (280, 140), WHITE)
    draw = ImageDraw.Draw(image)
    for x in range(40, 240, 12):
        draw.rectangle((x, 30, x + 5, 31), fill=GREY_77)
        draw.rectangle((x, 108, x + 5, 109), fill=GREY_77)
    for y in range(30, 110, 12):
        draw.rectangle((40, y, 41, y + 5), fill=GREY_77)
        draw.rectangle((238, y, 239, y + 5), fill=GREY_77)
    assert outline_contrast(np.asarray(image), window_rect(image, (40, 30, 240, 110))) == pytest.approx(4.48, abs=0.01)


def test_text_contrast_on_a_shaded_background():
    """GIVEN #777 text on a key shaded from light grey to white (a gradient: many pixels
    differ a little from the most common one) THEN the shading is not taken for the text:
    the measure lies between the text's contrast with the darkest and the lightest shade."""
    rows = np.linspace(0xE0, 0xFF, 80).astype(np.uint8)
    shade = np.repeat(np.repeat(rows[:, None], 420, axis=1)[:, :, None], 3, axis=2)
    image = Image.fromarray(shade)
    ImageDraw.Draw(image).text((10, 12), "Hapus", fill=GREY_77, font=ImageFont.load_default(size=40))
    measured = text_contrast(np.asarray(image), window_rect(image, (0, 0, image.width, image.height)))
    darkest, lightest = contrast_ratio(GREY_77, (0xE0,) * 3), contrast_ratio(GREY_77, WHITE)
    assert darkest - 0.05 <= measured <= lightest + 0.05
