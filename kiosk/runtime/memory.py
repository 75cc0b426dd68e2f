"""How the kiosk's C heap behaves over weeks without a restart (issue 17, endurance).

glibc's malloc, as it comes, suits short programs: it gives each thread that meets a busy
heap an arena of its own (up to eight per core), and it raises its mmap threshold to the
size of the largest block freed so far, so that after one camera frame (900 KiB) or one
receipt preview has come and gone, every later block up to that size is cut from a heap
instead of mapped on its own. Blocks in a heap go back to the system only from its top;
what a long-lived neighbour pins below stays resident. A kiosk has a dozen threads and
allocates and frees such blocks all day: its resident memory rose in steps of 2-3 MiB
through the soak benchmark (``benchmarks/soak.py``) long after every cache was warm.

:func:`settle_malloc` sets both once, at the start of the process, before any thread:
two arenas (``M_ARENA_MAX``), and a fixed mmap threshold (``M_MMAP_THRESHOLD``; setting it
turns the rising threshold off), so a large block is mapped on its own and returned whole
when freed. A C library without ``mallopt`` (musl) is left as it is. The same can be said
from outside with ``MALLOC_ARENA_MAX`` and ``MALLOC_MMAP_THRESHOLD_``; those, when set, win.
"""
from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

#: glibc's ``mallopt`` parameters (malloc.h).
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2
#: Blocks from this size up are mapped on their own and unmapped when freed: glibc's own
#: starting value, kept instead of rising (a camera frame, a preview, a batch's JSON).
MMAP_THRESHOLD = 128 * 1024


def settle_malloc(environ: dict[str, str] | None = None) -> dict[str, int]:
    """Set the C heap's arenas and mmap threshold for a long-running kiosk (see the module);
    what was set (empty when the C library has no ``mallopt``, or the environment already
    says). Call once, first thing, before threads start."""
    environ = os.environ if environ is None else environ
    wanted = {}
    if "MALLOC_ARENA_MAX" not in environ:
        wanted["M_ARENA_MAX"] = (M_ARENA_MAX, ARENAS)
    if "MALLOC_MMAP_THRESHOLD_" not in environ:
        wanted["M_MMAP_THRESHOLD"] = (M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on (no ldconfig run)
    except (OSError, AttributeError):
        log.info("this C library has no mallopt: its heap is left as it is")
        return {}
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    done = {}
    for name, (param, value) in wanted.items():
        if mallopt(param, value) == 1:  # 1 on success, 0 on error
            done[name] = value
        else:
            log.warning("mallopt(%s, %d) was refused: the kiosk's memory may creep over weeks", name, value)
    return done


def return_free_heap() -> bool:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim(0)``, which
    also releases free pages in the middle of a heap, not only at its top). What a
    citizen's session freed (its screens' objects, their textures in a software renderer,
    the receipt's preview) otherwise stays resident as free space for the next session:
    about 20 MiB at Welcome after each filing (``benchmarks/soak.py``). It takes a few
    milliseconds; the kiosk calls it when a session has ended and its screens are gone
    (``KioskApp``). False when the C library has no ``malloc_trim`` (musl)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    trim(0)
    return True
