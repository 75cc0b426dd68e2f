"""The SMS send worker's systemd unit (deploy/lapor-central-sms-send.service) passes
``systemd-analyze verify`` and holds what the worker and Gammu rely on (docs/SMS.md,
"Running it")."""
from __future__ import annotations

import shutil
import subprocess

from tests.support.servers import ROOT

UNIT = ROOT / "deploy" / "lapor-central-sms-send.service"


def test_unit_file_passes_systemd_analyze_verify(tmp_path):
    """`systemd-analyze verify` reads every directive (an unknown or misspelt one is
    reported) and checks that ExecStart= is executable. The central's python lives in
    /opt/lapor-central on a server, not here: that one path is pointed at a stand-in
    executable, the rest of the unit is checked exactly as shipped."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd (Makefile TEST_SYSTEM_PACKAGES)"
    text = UNIT.read_text(encoding="utf-8")
    exec_start = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart="))
    python = exec_start.split()[0]
    assert exec_start == f"{python} -m central sms send" and python.startswith("/opt/lapor-central/")
    stand_in = tmp_path / "python"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    checked = tmp_path / UNIT.name
    checked.write_text(text.replace(python, str(stand_in)), encoding="utf-8")
    proc = subprocess.run([analyze, "verify", str(checked)], capture_output=True, text=True, timeout=60)
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if UNIT.name in line]
    assert proc.returncode == 0 and not said, proc.stdout + proc.stderr


def test_unit_file_has_what_the_worker_and_gammu_need():
    """The central's user with Gammu's group, files the daemon may read, its outbox
    writable, a UTF-8 locale for inject, the SMS file and the secret key, and no restart
    loop on a wrong file (exit code 2)."""
    lines = {line.strip() for line in UNIT.read_text(encoding="utf-8").splitlines()}
    for wanted in ("User=lapor-central", "SupplementaryGroups=gammu", "UMask=0007",
                   "ReadWritePaths=-/var/spool/gammu/outbox", "Environment=LC_ALL=C.UTF-8",
                   "Environment=CENTRAL_SMS_FILE=/etc/lapor-central/sms.toml",
                   "LoadCredential=central-secret-key:/etc/lapor-central/secret.key",
                   "Restart=on-failure", "RestartPreventExitStatus=2", "KillSignal=SIGTERM",
                   "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes"):
        assert wanted in lines, wanted
