"""systemd's notify protocol: the real kiosk process says READY=1 once Welcome is drawn,
pings WATCHDOG=1 from its UI loop, and stops pinging when that loop hangs; the unit file
passes ``systemd-analyze verify``.

systemd's side is played by a real AF_UNIX datagram socket bound where NOTIFY_SOCKET
points, exactly what systemd hands a ``Type=notify`` service.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.runtime import watchdog

from tests.support.servers import ROOT  # noqa: E402
from tests.support.systemd_unit import exec_start, verify_unit  # noqa: E402
UNIT = ROOT / "deploy" / "lapor-kiosk.service"

#: Runs the real ``kiosk`` command. SIGUSR1 makes its main thread, which is Kivy's UI
#: loop, block inside the signal handler (Python runs handlers on the main thread);
#: every other thread (sync worker, printer pool, this harness's reader) goes on. A line
#: on stdin lets it go. This is how a hung UI looks from outside, without any test hook
#: in the kiosk itself.
HARNESS = r"""
import os, signal, sys, threading
released = threading.Event()
def hang(_signum, _frame):
    os.write(1, b"UI-HUNG\n")
    released.wait()
    os.write(1, b"UI-RELEASED\n")
signal.signal(signal.SIGUSR1, hang)
threading.Thread(target=lambda: (sys.stdin.readline(), released.set()), daemon=True).start()
from kiosk.launcher import main
sys.exit(main(sys.argv[1:]))
"""


class NotifySocket:
    """systemd's end of NOTIFY_SOCKET: receives the kiosk's datagrams."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def receive(self, timeout: float) -> dict[str, str]:
        """The next datagram as {"READY": "1", "STATUS": ...}; socket.timeout if none comes."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode("latin-1")
        return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)

    def receive_until(self, key: str, timeout: float) -> tuple[dict[str, str], list[dict[str, str]]]:
        """Datagrams up to the first holding ``key``: (that one, those before it)."""
        before = []
        while True:
            message = self.receive(timeout)
            if key in message:
                return message, before
            before.append(message)

    def drain(self) -> list[dict[str, str]]:
        """What is already queued, without waiting."""
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                data = self.sock.recv(4096).decode("latin-1")
                out.append(dict(line.split("=", 1) for line in data.splitlines() if "=" in line))
        except BlockingIOError:
            return out
        finally:
            self.sock.setblocking(True)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path):
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()


def kiosk_environment(tmp_path: Path, notify_path: Path, watchdog_usec: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "NOTIFY_", "WATCHDOG_"))}
    kivy_home = tmp_path / "kivy-home"
    kivy_home.mkdir()
    env.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_NO_FILELOG="1", KIVY_HOME=str(kivy_home),
               NOTIFY_SOCKET=str(notify_path), WATCHDOG_USEC=str(watchdog_usec))
    return env


@contextlib.contextmanager
def running_kiosk(tmp_path: Path, env: dict[str, str]):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", HARNESS, "--config", str(config), "run"], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr.txt", "wb"))
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdin.close()
        proc.stdout.close()


def test_kiosk_says_ready_then_pings_from_its_ui_loop_and_stops_when_it_hangs(tmp_path, notify_socket):
    """GIVEN the kiosk started as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC = 1 s)
    THEN it says READY=1 once Welcome is drawn, before any ping, then WATCHDOG=1 about
    every half second, with a STATUS line a technician reads in `systemctl status`;
    WHEN its UI loop hangs (the process and its other threads alive) THEN the pings stop,
    so systemd's watchdog would kill and restart it; and they come back with the loop."""
    env = kiosk_environment(tmp_path, notify_socket.path, watchdog_usec=1_000_000)
    with running_kiosk(tmp_path, env) as proc:
        ready, before = notify_socket.receive_until("READY", timeout=90)
        assert ready["READY"] == "1" and not any("WATCHDOG" in m for m in before)
        assert ready["STATUS"] == "starting"
        pings, statuses = 0, []
        while pings < 4:
            message = notify_socket.receive(timeout=5)
            pings += message.get("WATCHDOG") == "1"
            statuses += [message["STATUS"]] if "STATUS" in message else []
        assert "ready; 0 waiting to send" in statuses

        proc.send_signal(signal.SIGUSR1)
        assert proc.stdout.readline() == b"UI-HUNG\n"  # the UI thread is now stuck
        notify_socket.drain()  # pings sent before it got stuck
        with pytest.raises(TimeoutError):
            notify_socket.receive(timeout=2.5)  # five ping periods, more than WatchdogSec
        assert proc.poll() is None, "the process is alive: only its UI loop hangs"

        proc.stdin.write(b"go on\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"UI-RELEASED\n"
        assert notify_socket.receive_until("WATCHDOG", timeout=5)[0]["WATCHDOG"] == "1"


def test_nothing_is_sent_or_scheduled_outside_systemd():
    """`make run` and the UI tests: no NOTIFY_SOCKET, so no READY, no pings, no clock event."""
    scheduled = []

    class App:
        ready, out_of_service, waiting = True, False, 0

        def bind(self, **_):
            raise AssertionError("nothing to stop outside systemd")

    dog = watchdog.start_on_ui_clock(App(), lambda *args: scheduled.append(args), environ={})
    assert not dog.notifier.enabled and scheduled == []
    assert watchdog.watchdog_interval_s({}) is None


def test_ping_interval_is_half_of_what_systemd_sets():
    env = {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000"}
    assert watchdog.watchdog_interval_s(env) == 15.0
    assert watchdog.watchdog_interval_s({**env, "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert watchdog.watchdog_interval_s({**env, "WATCHDOG_PID": "1"}) is None  # meant for another process
    assert watchdog.watchdog_interval_s({"NOTIFY_SOCKET": "/run/systemd/notify"}) is None  # Type=notify, no WatchdogSec


def test_status_line_says_what_a_technician_needs():
    class App:
        ready, out_of_service, no_room, waiting = True, False, False, 3

    app = App()
    assert watchdog.status_line(app) == "ready; 3 waiting to send"
    app.no_room = True
    assert watchdog.status_line(app).startswith("not taking reports: no room")
    app.out_of_service = True
    assert watchdog.status_line(app).startswith("out of service")


def test_unit_file_passes_systemd_analyze_verify(tmp_path):
    """Every directive known and spelt right, ExecStart= executable (``verify_unit``);
    ExecStart= is the bundle, dist/kiosk/ copied to /opt/lapor-kiosk."""
    assert exec_start(UNIT).split()[0] == "/opt/lapor-kiosk/kiosk"
    assert verify_unit(UNIT, tmp_path) == ""


def test_unit_file_has_what_the_kiosk_relies_on():
    """Type=notify with the watchdog, restarts, the data dir and the config file."""
    lines = {line.strip() for line in UNIT.read_text(encoding="utf-8").splitlines()}
    for wanted in ("Type=notify", "NotifyAccess=main", "Restart=on-failure", "User=kiosk",
                   "StateDirectory=lapor-kiosk", "Environment=KIOSK_CONFIG=/etc/lapor-kiosk/kiosk.toml",
                   "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes"):
        assert wanted in lines, wanted
    watchdog_s = next(int(line.split("=")[1]) for line in lines if line.startswith("WatchdogSec="))
    assert 10 <= watchdog_s <= 120
