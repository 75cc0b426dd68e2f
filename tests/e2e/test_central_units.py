"""The central's worker units in deploy/ pass ``systemd-analyze verify`` and hold what
their workers rely on: the SMS send worker (deploy/lapor-central-sms-send.service;
docs/SMS.md, "Running it") and the forwarding worker
(deploy/lapor-central-forward.service; docs/FORWARDING.md, docs/DEPLOY.md "Forwarding to
LAPOR! and Open311")."""
from __future__ import annotations

import pytest

from tests.support.servers import ROOT
from tests.support.systemd_unit import exec_start, verify_unit

SMS_SEND = ROOT / "deploy" / "lapor-central-sms-send.service"
FORWARD = ROOT / "deploy" / "lapor-central-forward.service"


def _lines(unit) -> set[str]:
    return {line.strip() for line in unit.read_text(encoding="utf-8").splitlines()}


@pytest.mark.parametrize(("unit", "command"), [(SMS_SEND, "sms send"), (FORWARD, "forward")],
                         ids=["sms-send", "forward"])
def test_unit_file_passes_systemd_analyze_verify(tmp_path, unit, command):
    """Every directive known and spelt right, ExecStart= executable (``verify_unit``);
    ExecStart= is the python of the central's installation under /opt/lapor-central."""
    started = exec_start(unit)
    assert started.endswith(f" -m central {command}") and started.startswith("/opt/lapor-central/")
    assert verify_unit(unit, tmp_path) == ""


def test_sms_send_unit_has_what_the_worker_and_gammu_need():
    """The central's user with Gammu's group, files the daemon may read, its outbox
    writable, a UTF-8 locale for inject, the SMS file and the secret key, and no restart
    loop on a wrong file (exit code 2)."""
    lines = _lines(SMS_SEND)
    for wanted in ("User=lapor-central", "SupplementaryGroups=gammu", "UMask=0007",
                   "ReadWritePaths=-/var/spool/gammu/outbox", "Environment=LC_ALL=C.UTF-8",
                   "Environment=CENTRAL_SMS_FILE=/etc/lapor-central/sms.toml",
                   "LoadCredential=central-secret-key:/etc/lapor-central/secret.key",
                   "Restart=on-failure", "RestartPreventExitStatus=2", "KillSignal=SIGTERM",
                   "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes"):
        assert wanted in lines, wanted


def test_forward_unit_has_what_the_worker_relies_on():
    """The central's user, its database and forwarding file, no restart loop on a wrong
    file (exit code 2), time to finish the request in hand on SIGTERM, and the network
    only (it writes no file)."""
    lines = _lines(FORWARD)
    for wanted in ("User=lapor-central", "Environment=CENTRAL_FORWARDING_FILE=/etc/lapor-central/forwarding.toml",
                   "Restart=on-failure", "RestartPreventExitStatus=2", "KillSignal=SIGTERM",
                   "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes",
                   "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"):
        assert wanted in lines, wanted
    database = next(line for line in lines if line.startswith("Environment=CENTRAL_DATABASE_URL="))
    assert database.split("=", 2)[2].startswith("postgresql+psycopg://")
    stop_s = next(int(line.split("=")[1]) for line in lines if line.startswith("TimeoutStopSec="))
    assert stop_s >= 30  # timeout_s + connect_timeout_s of the request in hand (docs/FORWARDING.md)
