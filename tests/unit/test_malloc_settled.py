"""The kiosk's C heap gives large blocks back (kiosk.runtime.memory, issue 17 endurance).

Each case runs in a fresh Python process, since glibc reads its settings once and
``mallopt`` changes the process it runs in. The process frees one 8 MiB block (as a
camera burst or a receipt preview might), then allocates and frees 48 blocks of 512 KiB
(frames, previews) while a small object allocated last pins the heap's top, as a
long-lived neighbour does in the kiosk. What stays resident afterwards is what a kiosk
keeps for good."""
from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = r"""
import json, sys
from kiosk.runtime.memory import settle_malloc

def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])

settled = settle_malloc() if sys.argv[1] == "settled" else {}
big = bytearray(8 << 20)
del big  # freed: glibc as it comes now cuts blocks up to 8 MiB from its heap
before = rss_kib()
blocks = [bytearray(512 << 10) for _ in range(48)]
pin = [bytearray(600)]  # a small long-lived object above them
del blocks
print(json.dumps({"settled": settled, "kept_kib": rss_kib() - before}))
"""


def _kept(mode: str, probe: str = PROBE) -> dict:
    """What ``probe`` prints, run in a fresh process with glibc as it comes (no MALLOC_ variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, env=env,
                         timeout=60, check=True).stdout
    return json.loads(out)


def test_a_settled_kiosk_gives_freed_frames_back_and_glibc_as_it_comes_does_not():
    as_is, settled = _kept("as-is"), _kept("settled")
    assert settled["settled"] == {"M_ARENA_MAX": 2, "M_MMAP_THRESHOLD": 128 * 1024}
    assert settled["kept_kib"] < 1024  # the 24 MiB went back
    assert as_is["kept_kib"] > 4 * 1024  # without it, megabytes of them stay resident (8 MiB here)


def test_what_the_environment_says_wins():
    """A technician's MALLOC_ARENA_MAX (systemd's Environment=) is left as they set it.
    In a process of its own too: ``mallopt`` would change the test run's own heap."""
    said = subprocess.run(
        [sys.executable, "-c", "import json; from kiosk.runtime.memory import settle_malloc; print(json.dumps(["
         "settle_malloc({'MALLOC_ARENA_MAX': '4'}), "
         "settle_malloc({'MALLOC_ARENA_MAX': '4', 'MALLOC_MMAP_THRESHOLD_': '65536'})]))"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    assert json.loads(said) == [{"M_MMAP_THRESHOLD": 128 * 1024}, {}]


TRIM_PROBE = r"""
import json, sys
from kiosk.runtime.memory import return_free_heap, settle_malloc

def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])

settle_malloc()
before = rss_kib()
# A citizen's session: many small blocks (widgets, label textures, shader state), under
# the mmap threshold, so cut from the heap; every other one stays (what the kiosk keeps),
# so the freed ones are holes in the middle of the heap, not at its top.
blocks = [bytearray(24 << 10) for _ in range(2000)]
kept = blocks[::2]
del blocks
trimmed = return_free_heap() if sys.argv[1] == "trim" else False
print(json.dumps({"trimmed": trimmed, "resident_kib": rss_kib() - before, "kept_kib": len(kept) * 24}))
"""


def test_the_heap_a_session_freed_goes_back_when_the_kiosk_returns_it():
    """GIVEN a heap with ~24 MiB freed in holes between blocks still in use (a session's
    screens dropped, Welcome and its caches kept) WHEN the kiosk returns the free heap
    (KioskApp.release_screens) THEN what stays resident is about what is still in use;
    without it, the holes stay resident too."""
    kept, trimmed = _kept("keep", TRIM_PROBE), _kept("trim", TRIM_PROBE)
    assert trimmed["trimmed"] is True
    assert trimmed["resident_kib"] < kept["resident_kib"] - 16 * 1024  # most of the 24 MiB of holes went back
    assert trimmed["resident_kib"] < trimmed["kept_kib"] * 1.3  # little more than the blocks in use
