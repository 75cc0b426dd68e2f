"""The technician's ``kiosk doctor`` and ``kiosk print-test``, run as real commands."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devices.escpos_sim import parse_escpos
from tests.support.printer_sims import TcpPrinterSimulator
from tests.support.servers import ROOT


def kiosk(config, *args):
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture
def sim():
    simulator = TcpPrinterSimulator()
    yield simulator
    simulator.close()


def write_config(tmp_path, **values) -> object:
    lines = [f'data_dir = "{tmp_path / "data"}"'] + [
        f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in values.items()]
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_doctor_all_well(tmp_path, sim, central, token):
    base, _, _ = central
    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port,
                          central_url=base, central_token=token)
    run = kiosk(config, "doctor", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    checks = {c["check"]: c for c in json.loads(run.stdout)}
    assert set(checks) == {"config", "database", "printer", "camera", "central"}
    assert all(c["ok"] for c in checks.values())
    assert token not in run.stdout


@pytest.mark.parametrize("state,hint", [("paper_out", "load a new roll"), ("cover_open", "close it")])
def test_doctor_says_what_is_wrong_with_the_printer_and_how_to_fix_it(tmp_path, sim, state, hint):
    sim.state = state
    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port)
    run = kiosk(config, "doctor")
    assert run.returncode == 1
    assert "[FAIL] printer" in run.stdout and hint in run.stdout


def test_doctor_flags_a_refused_token_and_a_missing_camera(tmp_path, central):
    base, _, _ = central
    config = write_config(tmp_path, central_url=base, central_token="wrong", camera_source="/dev/video99")
    run = kiosk(config, "doctor", "--json")
    checks = {c["check"]: c for c in json.loads(run.stdout)}
    assert run.returncode == 1
    assert not checks["central"]["ok"] and "central_token" in checks["central"]["fix"]
    assert not checks["camera"]["ok"] and "camera_source" in checks["camera"]["fix"]


def test_print_test_prints_both_qr_modes(tmp_path, sim):
    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port)
    run = kiosk(config, "print-test")
    assert run.returncode == 0, run.stdout
    native, image = (parse_escpos(job) for job in sim.wait_for_jobs(2))
    assert len(native.qr_payloads) == 1 and not native.images
    assert not image.qr_payloads and len(image.images) == 1
    assert "TES PRINTER" in native.text and "cp437" in native.text.replace("\n", " ")


def test_doctor_rejects_an_unknown_printer_profile(tmp_path):
    config = write_config(tmp_path, printer_profile="NO-SUCH-PRINTER")
    run = kiosk(config, "doctor")
    assert run.returncode == 1 and "unknown printer_profile" in run.stdout and "TM-T88III" in run.stdout


def test_print_test_with_a_profile_without_native_qr_says_use_image(tmp_path, sim):
    from escpos.capabilities import CAPABILITIES, get_profile

    no_qr = next(name for name in sorted(CAPABILITIES["profiles"]) if not get_profile(name).supports("qrCode"))
    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port, printer_profile=no_qr)
    run = kiosk(config, "print-test")
    assert f"Profile {no_qr} has no native QR code" in run.stdout
