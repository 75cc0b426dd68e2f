"""What one drawn Kivy instruction costs the process, by kind: a measure of where the
kiosk's memory goes beyond a bare Kivy app (``docs/PERFORMANCE.md``, endurance).

For each kind (a rectangle, a thin outline, a 1.5 px outline, a dashed outline, a thick
round-capped check mark, a Line with no points), a new headless Kivy process makes
``COUNT`` of them in an InstructionGroup, either added to the window's canvas and drawn
(each frame finished), or left out of it: the difference per instruction is what
drawing it costs beyond the Python and Cython objects (on Mesa's llvmpipe, the renderer's
buffers for each draw and the scene it bins a frame's draws into, which grows with the
busiest frame: 1,000 rectangles cost 22 KiB each, 200 of them 6). The first one drawn of a kind is measured apart,
in a process of its own, beyond a first Line without points (which draws nothing): the
renderer's first use of a new kind of draw.

    python -m benchmarks.draw_cost            (a table on standard output)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.common import ROOT, kivy_process_env

COUNT = int(os.environ.get("DRAW_COUNT", "1000"))
#: Each kind's instruction at (x, y), as the kiosk's kv rules draw them.
KINDS = ("rectangle", "outline 1 px", "outline 1.5 px", "dashed outline", "check mark", "line without points")

_CHILD = r"""
import ctypes, json, sys
from kivy.config import Config
Config.set("graphics", "width", "1280"); Config.set("graphics", "height", "800")
from kivy.base import EventLoop
EventLoop.ensure_window()
from kivy.core.window import Window
from kivy.graphics import Color, InstructionGroup, Line, Rectangle
from kivy.graphics.opengl import glFinish

kind, count, drawn = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "drawn"

def resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20

def frames(n=3):
    for _ in range(n):
        EventLoop.idle()
        Window.dispatch("on_draw")
        Window.dispatch("on_flip")
        glFinish()

def make(x, y):
    if kind == "rectangle":
        return Rectangle(pos=(x, y), size=(25, 25))
    if kind == "outline 1 px":
        return Line(rectangle=(x, y, 25, 25), width=1)
    if kind == "outline 1.5 px":
        return Line(rectangle=(x, y, 25, 25), width=1.5)
    if kind == "dashed outline":
        return Line(points=[x, y, x + 25, y, x + 25, y + 25, x, y + 25, x, y], dash_length=6, dash_offset=4)
    if kind == "check mark":
        return Line(points=[x, y + 12, x + 9, y + 3, x + 25, y + 22], width=3, cap="round", joint="round")
    return Line(points=[], dash_length=6, dash_offset=4)

trim = ctypes.CDLL(None).malloc_trim
frames()
trim(0)
before = resident_mib()
group = InstructionGroup()
for i in range(count):
    group.add(Color(0, 0, 0, 1))
    group.add(make((i % 40) * 30, (i // 40) * 30 % 780))
if drawn:
    Window.canvas.add(group)
frames()
trim(0)
print(json.dumps({"kib": (resident_mib() - before) * 1024}))
"""


def _measure(kind: str, count: int, drawn: bool) -> float:
    env = kivy_process_env()
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(count), "drawn" if drawn else "kept"],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"draw_cost child failed for {kind!r}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["kib"]


def measure(count: int = COUNT, kinds: tuple[str, ...] = KINDS) -> list[dict]:
    """Per kind: KiB per instruction drawn and not drawn, and what the first one drawn
    costs beyond a first Line without points."""
    nothing = _measure("line without points", 1, True)
    rows = []
    for kind in kinds:
        drawn, kept = _measure(kind, count, True), _measure(kind, count, False)
        rows.append({"kind": kind, "drawn_kib": drawn / count, "kept_kib": kept / count,
                     "first_drawn_kib": _measure(kind, 1, True) - nothing})
    return rows


def main() -> None:
    rows = measure()
    print(f"| instruction ({COUNT} of a kind) | KiB each, drawn | KiB each, not drawn | the first one drawn, KiB more |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['kind']} | {row['drawn_kib']:.1f} | {row['kept_kib']:.1f} | {row['first_drawn_kib']:.0f} |")


if __name__ == "__main__":
    main()
