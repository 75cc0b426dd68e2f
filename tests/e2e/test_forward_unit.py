"""The forwarding worker's systemd unit (deploy/lapor-central-forward.service) passes
``systemd-analyze verify`` and holds what the worker relies on (docs/FORWARDING.md,
docs/DEPLOY.md "Forwarding to LAPOR! and Open311")."""
from __future__ import annotations

from tests.support.servers import ROOT
from tests.support.systemd_unit import exec_start, verify_unit

UNIT = ROOT / "deploy" / "lapor-central-forward.service"


def test_unit_file_passes_systemd_analyze_verify(tmp_path):
    """Every directive known and spelt right, ExecStart= executable (``verify_unit``);
    ExecStart= is the python of the central's installation under /opt/lapor-central."""
    command = exec_start(UNIT)
    assert command.endswith(" -m central forward") and command.startswith("/opt/lapor-central/")
    assert verify_unit(UNIT, tmp_path) == ""


def test_unit_file_has_what_the_worker_relies_on():
    """The central's user, its database and forwarding file, no restart loop on a wrong
    file (exit code 2), time to finish the request in hand on SIGTERM, and the network
    only (it writes no file)."""
    lines = {line.strip() for line in UNIT.read_text(encoding="utf-8").splitlines()}
    for wanted in ("User=lapor-central", "Environment=CENTRAL_FORWARDING_FILE=/etc/lapor-central/forwarding.toml",
                   "Restart=on-failure", "RestartPreventExitStatus=2", "KillSignal=SIGTERM",
                   "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes",
                   "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"):
        assert wanted in lines, wanted
    database = next(line for line in lines if line.startswith("Environment=CENTRAL_DATABASE_URL="))
    assert database.split("=", 2)[2].startswith("postgresql+psycopg://")
    stop_s = next(int(line.split("=")[1]) for line in lines if line.startswith("TimeoutStopSec="))
    assert stop_s >= 30  # timeout_s + connect_timeout_s of the request in hand (docs/FORWARDING.md)
