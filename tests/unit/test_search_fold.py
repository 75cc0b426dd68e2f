"""The central's search folds text (a report's, a query's) to lower case without accents,
the same way whichever path it takes."""
from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from central.search import document, fold, terms


def _folded_by_hand(value: str) -> str:
    """Every character decomposed (NFKD), its accents dropped, then casefolded."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@given(st.text())
def test_any_text_folds_as_by_hand(value):
    assert fold(value) == _folded_by_hand(value)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_plain_ascii_folds_as_by_hand(value):
    assert fold(value) == _folded_by_hand(value)


def test_an_accented_query_finds_the_plain_report_and_the_other_way():
    body = {"title": "Jalan RUSAK di Pasar", "description": "Kerusakan dekat Café Melati", "location_text": "Muara Teweh"}
    assert document(body) == "jalan rusak di pasar kerusakan dekat cafe melati muara teweh"
    assert terms("CAFÉ Rusak") == ["cafe", "rusak"] and terms("cafe") == ["cafe"]
