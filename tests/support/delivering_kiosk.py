"""A kiosk process whose sync worker delivers as the app's does (``KioskEnv.sync.start()``),
for the tests of the delivery lock:

    python -m tests.support.delivering_kiosk CONFIG

Prints ``HOLDING`` once its worker holds the data directory's delivery lock, then
``DELIVERED`` once nothing waits in its outbox; it keeps delivering (and holding the lock)
until its standard input closes or it is killed.
"""
import sys
import threading

from kiosk.runtime.config import load_config
from kiosk.runtime.env import build_env


def main(config_path: str) -> None:
    env = build_env(load_config(config_path, environ={}))
    env.sync.start()
    stdin_closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stdin_closed.set()), daemon=True).start()
    try:
        while not env.sync.lock.held:  # start() takes it at once when it is free
            if stdin_closed.wait(0.05):
                return
        print("HOLDING", flush=True)
        while env.reports.count_waiting():
            if stdin_closed.wait(0.05):
                return
        print("DELIVERED", flush=True)
        stdin_closed.wait()
    finally:
        env.close()


if __name__ == "__main__":
    main(sys.argv[1])
