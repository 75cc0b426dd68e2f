"""The bounded background runner: a fixed number of threads, a cap on waiting jobs, and
a typed refusal beyond it; and the admin checks that run on it against the live kiosk."""
from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from kiosk.runtime.background import BackgroundRunner, Refused

PREFIX = "test-background"


def _our_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(PREFIX)]


@pytest.fixture
def runner():
    opened = BackgroundRunner(workers=2, max_waiting=3, name=PREFIX)
    yield opened
    opened.close()


def test_refuses_beyond_its_cap_and_never_starts_more_threads_than_its_bound(runner):
    """GIVEN 2 workers and 3 waiting places, all jobs blocked WHEN 10 jobs are submitted
    THEN 5 are taken, 5 refused as busy, and at most 2 threads ever run; once the jobs
    end every place is free again."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def job(n):
        started.release()
        release.wait()
        return n

    answers = [runner.submit(lambda n=n: job(n)) for n in range(10)]
    taken = [a for a in answers if not isinstance(a, Refused)]
    refused = [a for a in answers if isinstance(a, Refused)]
    assert len(taken) == 5 and refused == [Refused("busy")] * 5
    assert started.acquire(timeout=10) and started.acquire(timeout=10)  # both workers busy
    assert len(_our_threads()) == 2
    assert not started.acquire(blocking=False)  # the waiting jobs have not started

    release.set()
    assert sorted(f.result(timeout=10) for f in taken) == [0, 1, 2, 3, 4]
    assert len(_our_threads()) == 2
    again = [runner.submit(lambda: "again") for _ in range(5)]
    assert [f.result(timeout=10) for f in again] == ["again"] * 5


def test_a_failing_job_frees_its_place_and_reaches_its_future(runner):
    def boom():
        raise RuntimeError("bug")

    for _ in range(8):  # more than the cap: each failure gave its place back
        future = runner.submit(boom)
        with pytest.raises(RuntimeError):
            future.result(timeout=10)


def test_closing_drops_waiting_jobs_and_refuses_new_ones():
    runner = BackgroundRunner(workers=1, max_waiting=1, name=PREFIX)
    release = threading.Event()
    started = threading.Event()

    def running():
        started.set()
        release.wait()
        return "done"

    first = runner.submit(running)
    waiting = runner.submit(lambda: "never")
    assert started.wait(timeout=10)
    closer = threading.Thread(target=runner.close)
    closer.start()
    release.set()
    closer.join(timeout=10)
    assert first.result(timeout=10) == "done"  # a running job finishes (it may be using the store)
    with pytest.raises(CancelledError):
        waiting.result(timeout=10)
    assert runner.submit(lambda: "late") == Refused("closed")


def test_admin_checks_use_the_live_kiosk(env):
    """The admin screen's device checks answer from the running kiosk's own store, and ask
    the printer on the printer's thread; the environment closes its runner with it."""
    from kiosk.runtime.technician import env_checks

    rows = {name: (ok, detail) for name, ok, detail, _fix in env.background.submit(lambda: env_checks(env)).result(timeout=60)}
    assert list(rows) == ["config", "database", "printer", "camera", "microphone", "audio", "voice", "headset", "central"]
    assert rows["database"][0] and "0 reports waiting" in rows["database"][1]
    assert rows["printer"][0] and rows["printer"][1].startswith("file printer")
    assert rows["camera"][0] and rows["central"][0]
