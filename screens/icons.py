"""Pictograms: glyphs of Material Design Icons (Apache 2.0), drawn as text.

The kiosk's fonts have no pictures, and pictures as PNG files would not follow the text
size or the theme's colours. A subset of the Material Design Icons font
(``assets/fonts/kiosk-icons.ttf``; how it is made: ``assets/fonts/README.md``) holds only
the glyphs named here; a Label with ``font_name: C.ICON_FONT`` and ``text: C.icon('...')``
draws one at any size, in the colour of the words beside it. ``tests/unit/test_icons.py``
checks every name below has a glyph in the font.
"""
from __future__ import annotations

from importlib import resources

#: Icon name (as on pictogrammers.com) -> code point in the font.
ICONS: dict[str, int] = {
    "volume-high": 0xF057E,        # "Dengarkan": listen to this screen
    "volume-plus": 0xF075D,
    "volume-minus": 0xF075E,
    "ear-hearing": 0xF07C5,        # speech mode
    "headset": 0xF02CE,
    "face-agent": 0xF0D70,         # ask staff for help
    "microphone": 0xF036C,         # record a spoken complaint
    "stop": 0xF04DB,
    "play": 0xF040A,
    "delete": 0xF01B4,
    "backspace-outline": 0xF0B5C,  # the status keypad's "Hapus" (one symbol back)
    "refresh": 0xF0450,
    "replay": 0xF0459,             # say it again
    "format-size": 0xF027F,        # text size
    "circle-half-full": 0xF1396,   # high contrast
    "file-document-edit-outline": 0xF0DC9,  # create a report
    "magnify": 0xF0349,            # check a report's status
    "keyboard-outline": 0xF097B,
    "arrow-left": 0xF004D,
    "arrow-right": 0xF0054,
    "check": 0xF012C,
    "close": 0xF0156,
    "help-circle-outline": 0xF0625,
    # the kinds of report
    "alert-circle-outline": 0xF05D6,      # pengaduan
    "lightbulb-on-outline": 0xF06E9,      # aspirasi
    "information-outline": 0xF02FD,       # permintaan informasi
    # the categories (by code, below)
    "card-account-details-outline": 0xF0DAB,
    "hospital-box-outline": 0xF0FF7,
    "school-outline": 0xF1180,
    "road-variant": 0xF0462,
    "bus": 0xF00E7,
    "hand-heart-outline": 0xF157E,
    "leaf": 0xF032A,
    "file-certificate-outline": 0xF1187,
    "shield-account-outline": 0xF0A12,
    "water-outline": 0xF0E0A,
    "cash-remove": 0xF1262,
    "dots-horizontal-circle-outline": 0xF0B8D,
}

#: Each kind of report's pictogram (``kiosk.kernel.wire.ReportKind`` values).
KIND_ICONS: dict[str, str] = {
    "pengaduan": "alert-circle-outline",
    "aspirasi": "lightbulb-on-outline",
    "permintaan_informasi": "information-outline",
}

#: Each category's pictogram, by the reference data's category code; a category a
#: kabupaten adds under another code gets :data:`OTHER_CATEGORY`.
CATEGORY_ICONS: dict[str, str] = {
    "KEPENDUDUKAN": "card-account-details-outline",
    "KESEHATAN": "hospital-box-outline",
    "PENDIDIKAN": "school-outline",
    "JALAN_JEMBATAN": "road-variant",
    "PERHUBUNGAN": "bus",
    "BANTUAN_SOSIAL": "hand-heart-outline",
    "LINGKUNGAN": "leaf",
    "PERIZINAN": "file-certificate-outline",
    "KETERTIBAN": "shield-account-outline",
    "AIR_BERSIH": "water-outline",
    "PUNGLI": "cash-remove",
    "LAINNYA": "dots-horizontal-circle-outline",
}
OTHER_CATEGORY = "dots-horizontal-circle-outline"


def icon(name: str) -> str:
    """The character that draws ``name`` in the icon font."""
    return chr(ICONS[name])


def icon_font() -> str:
    """The icon font's path (inside the installed package or the bundle)."""
    return str(resources.files("assets") / "fonts" / "kiosk-icons.ttf")
