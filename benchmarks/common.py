"""What every benchmark shares: the repository root, a headless Kivy environment for
the kiosk processes it starts, and the machine's description for docs/PERFORMANCE.md."""
from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def kivy_process_env() -> dict[str, str]:
    """This process's environment plus a headless, hermetic Kivy (its own KIVY_HOME)."""
    env = dict(os.environ)
    env.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_NO_FILELOG="1")
    env["KIVY_HOME"] = tempfile.mkdtemp(prefix="bench-kivy-")
    return env


def machine() -> str:
    """CPU, cores, memory, kernel and Python, as each measurement is written with."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {psutil.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"
