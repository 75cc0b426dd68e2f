"""One bounded way to run slow work (a status lookup, an admin check) off the UI thread.

A fixed number of worker threads and a cap on jobs waiting for them: a citizen who taps
"Check" twenty times, or a technician who taps every admin button, gets a refusal they
can see instead of twenty threads piling up behind a slow network. The runner knows no
UI: screens hand results back to their own thread (with Kivy's ``Clock``).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Threads are named ``<prefix>_0``, ``<prefix>_1`` ... (what ``ps -L`` and the logs show).
THREAD_PREFIX = "kiosk-background"
#: Two workers: a status lookup waiting on the network does not hold up an admin check.
WORKERS = 2
#: Jobs that may wait for a free worker; beyond that, submit() refuses.
MAX_WAITING = 2


@dataclasses.dataclass(frozen=True)
class Refused:
    """The runner did not take the job: ``busy`` (every worker and waiting place taken)
    or ``closed`` (the kiosk is shutting down). Nothing was started."""

    reason: str


class BackgroundRunner:
    """A ThreadPoolExecutor with at most ``workers`` threads and ``max_waiting`` queued jobs."""

    def __init__(self, *, workers: int = WORKERS, max_waiting: int = MAX_WAITING, name: str = THREAD_PREFIX):
        if workers < 1 or max_waiting < 0:
            raise ValueError("a runner needs at least one worker and a non-negative queue")
        self.workers, self.max_waiting = workers, max_waiting
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        # One place per job running or waiting; taken in submit(), given back when the job ends.
        self._places = threading.BoundedSemaphore(workers + max_waiting)
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, work: Callable[[], T]) -> "Future[T] | Refused":
        """Run ``work`` on a worker thread; a future at once, or :class:`Refused` when full or closed."""
        with self._lock:
            if self._closed:
                return Refused("closed")
            if not self._places.acquire(blocking=False):
                log.warning("background work refused: %d running or waiting", self.workers + self.max_waiting)
                return Refused("busy")
            future = self._pool.submit(work)
        future.add_done_callback(lambda _f: self._places.release())
        return future

    def close(self) -> None:
        """Drop jobs still waiting and wait for the running ones (they may use the store,
        which is closed after this)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
