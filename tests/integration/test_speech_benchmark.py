"""The tap-to-first-sample benchmark measures what it claims, small (never its speed)."""
from __future__ import annotations

from benchmarks import speech


def test_the_speech_benchmark_times_both_kinds_on_both_sinks():
    results = speech.measure(runs=2)
    sinks = [name for name, times in results.items() if isinstance(times, dict)]
    assert sinks == ["file sink", "aplay -D null"]
    for name in sinks:
        assert len(results[name]["speak"]) == len(results[name]["wav"]) == 2
        assert all(0 < ms < 1000 for ms in results[name]["speak"] + results[name]["wav"])
    section = speech.lines(results)
    assert section[0] == speech.START and section[-1] == speech.END
    assert sum(line.startswith("| aplay") for line in section) == 2
