"""The SMS send worker's systemd unit (deploy/lapor-central-sms-send.service) passes
``systemd-analyze verify`` and holds what the worker and Gammu rely on (docs/SMS.md,
"Running it")."""
from __future__ import annotations

from tests.support.servers import ROOT
from tests.support.systemd_unit import exec_start, verify_unit

UNIT = ROOT / "deploy" / "lapor-central-sms-send.service"


def test_unit_file_passes_systemd_analyze_verify(tmp_path):
    """Every directive known and spelt right, ExecStart= executable (``verify_unit``);
    ExecStart= is the python of the central's installation under /opt/lapor-central."""
    command = exec_start(UNIT)
    assert command.endswith(" -m central sms send") and command.startswith("/opt/lapor-central/")
    assert verify_unit(UNIT, tmp_path) == ""


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
