"""``systemd-analyze verify`` of a unit file as shipped in ``deploy/``.

It reads every directive (an unknown or misspelt one is reported) and checks that
``ExecStart=`` is executable. The program a unit starts lives under /opt on a kiosk or a
server, not here: that one path is pointed at a stand-in executable in ``folder``, the
rest of the unit is checked exactly as shipped."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def exec_start(unit: Path) -> str:
    """The unit's ``ExecStart=`` command line."""
    return next(line.split("=", 1)[1] for line in unit.read_text(encoding="utf-8").splitlines()
                if line.startswith("ExecStart="))


def verify_unit(unit: Path, folder: Path) -> str:
    """What ``systemd-analyze verify`` says about ``unit`` (its lines naming the unit, and
    its exit status when not 0); empty when it finds nothing."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd (Makefile TEST_SYSTEM_PACKAGES)"
    program = exec_start(unit).split()[0]
    stand_in = folder / Path(program).name
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    checked = folder / unit.name
    checked.write_text(unit.read_text(encoding="utf-8").replace(program, str(stand_in)), encoding="utf-8")
    proc = subprocess.run([analyze, "verify", str(checked)], capture_output=True, text=True, timeout=60)
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if unit.name in line]
    if proc.returncode:
        said.append(f"systemd-analyze exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return "\n".join(said)
