"""docs/PERFORMANCE.md as the benchmarks write it (``benchmarks/run.py``): measured parts are
replaced in place, between their markers, and what was written by hand between them stays."""
from __future__ import annotations

from pathlib import Path

from benchmarks.run import HOW_END, HOW_START, LOOKUP_END, LOOKUP_START, QR_END, QR_START, compose, replace_headline

PAGE = Path(__file__).resolve().parents[2] / "docs" / "PERFORMANCE.md"
HEAD = ["# Performance", "", "Measured now.", "", "| what | kiosk |", "|---|---|", "| new | 2 |"]


def test_the_table_alone_replaces_only_the_head_of_the_page():
    """``python -m benchmarks.run table``: the measured table and the lines above it are
    new; every section below it, written by other benchmarks or by hand, stays."""
    page = "# Performance\n\nMeasured long ago.\n\n| what | kiosk |\n|---|---|\n| old | 1 |\n\nQR decoding...\n| a |\n"
    assert replace_headline(page, HEAD) == ("# Performance\n\nMeasured now.\n\n| what | kiosk |\n|---|---|\n"
                                            "| new | 2 |\n\nQR decoding...\n| a |\n")


def test_a_full_run_keeps_what_was_written_by_hand_between_sections():
    """``make bench``: each section is measured again where it stands; an analysis written
    between two sections, and the note under the table, stay; a new section goes at the end."""
    page = "\n".join([
        "# Performance", "", "Measured long ago.", "", "| what | kiosk |", "|---|---|", "| old | 1 |", "",
        "A note under the table.", "",
        "<!-- soak:start -->", "old soak", "<!-- soak:end -->", "",
        "Why the soak is what it is: an analysis by hand.", "",
        "<!-- drain:start -->", "old drain", "<!-- drain:end -->", ""])
    sections = [(["<!-- drain:start -->", "new drain", "<!-- drain:end -->"], "<!-- drain:start -->", "<!-- drain:end -->"),
                (["<!-- soak:start -->", "new soak", "<!-- soak:end -->"], "<!-- soak:start -->", "<!-- soak:end -->"),
                (["<!-- speech:start -->", "speech", "<!-- speech:end -->"], "<!-- speech:start -->", "<!-- speech:end -->")]
    new = compose(page, HEAD, sections)
    assert "Measured now." in new and "Measured long ago." not in new and "| new | 2 |" in new
    assert "old soak" not in new and "old drain" not in new
    order = [new.index(part) for part in ("A note under the table.", "new soak", "Why the soak is what it is",
                                          "new drain", "speech")]
    assert order == sorted(order)
    assert new.count("<!-- soak:start -->") == 1 and new.count("<!-- speech:end -->") == 1


def test_the_page_has_each_section_a_full_run_writes_once():
    """Every marker a full run writes is on the page once: a full run replaces the sections
    in place instead of adding a second copy at the end."""
    import benchmarks.camera_start
    import benchmarks.drain
    import benchmarks.forwarding
    import benchmarks.open311_list
    import benchmarks.sms_intake
    import benchmarks.soak
    import benchmarks.speech
    import benchmarks.workbench_inbox
    import benchmarks.workbench_recap

    text = PAGE.read_text(encoding="utf-8")
    modules = (benchmarks.camera_start, benchmarks.drain, benchmarks.forwarding, benchmarks.open311_list,
               benchmarks.sms_intake, benchmarks.soak, benchmarks.speech, benchmarks.workbench_inbox,
               benchmarks.workbench_recap)
    markers = [QR_START, QR_END, LOOKUP_START, LOOKUP_END, HOW_START, HOW_END,
               "<!-- microphone:start -->", "<!-- microphone:end -->"]
    markers += [marker for module in modules for marker in (module.START, module.END)]
    assert {marker: text.count(marker) for marker in markers} == {marker: 1 for marker in markers}
    for start, end in zip(markers[::2], markers[1::2]):
        assert text.index(start) < text.index(end)
