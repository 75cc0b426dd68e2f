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
    assert set(checks) == {"config", "database", "printer", "camera", "microphone", "audio", "voice", "headset", "central"}
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


def test_print_test_with_an_unknown_profile_says_so(tmp_path, sim):
    """A profile python-escpos does not know: nothing prints (the layout cannot), and the
    technician is told which setting is wrong, not that the profile lacks a QR code."""
    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port,
                          printer_profile="NO-SUCH-PRINTER")
    run = kiosk(config, "print-test")
    assert run.returncode == 1 and "NOT printed" in run.stdout
    assert "Profile NO-SUCH-PRINTER is not one python-escpos knows" in run.stdout
    assert "has no native QR code" not in run.stdout and "Traceback" not in run.stdout + run.stderr


def test_print_test_with_a_profile_without_native_qr_says_use_image(tmp_path, sim):
    from escpos.capabilities import CAPABILITIES, get_profile

    no_qr = next(name for name in sorted(CAPABILITIES["profiles"]) if not get_profile(name).supports("qrCode"))
    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port, printer_profile=no_qr)
    run = kiosk(config, "print-test")
    assert f"Profile {no_qr} has no native QR code" in run.stdout


# -- issue 12 ------------------------------------------------------------------------------
def _file_reports(config_path, count: int) -> None:
    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env
    from tests.support.kiosk_ui import saved_report

    env = build_env(load_config(config_path, environ={}))
    try:
        for _ in range(count):
            saved_report(env)
    finally:
        env.close()


def test_doctor_warns_when_reports_wait_with_no_central_to_go_to(tmp_path):
    """GIVEN a kiosk with no central and 3 reports waiting WHEN the doctor runs THEN the
    central row is a WARN with the count and what to do (not "[ OK ]"), and the exit code
    stays 0: a warning is not a failure (an offline-only kiosk is a supported setup)."""
    config = write_config(tmp_path)
    quiet = kiosk(config, "doctor")
    assert quiet.returncode == 0 and "[ OK ] central: no central configured" in quiet.stdout
    _file_reports(config, 3)
    run = kiosk(config, "doctor")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[WARN] central: no central configured: 3 reports waiting will never be sent" in run.stdout
    assert "fix: set central_url" in run.stdout
    checks = {c["check"]: c for c in json.loads(kiosk(config, "doctor", "--json").stdout)}
    assert checks["central"]["ok"] and checks["central"]["warning"] and "central_token" in checks["central"]["fix"]
    assert not checks["config"]["warning"]


def test_scan_of_an_image_file_decodes_it_once_and_a_missing_file_says_so(tmp_path):
    import datetime as dt

    from devices.escpos_sim import render_png
    from kiosk.core.receipt import ReceiptLayout, ReceiptContent
    from kiosk.kernel.i18n import gettext_for
    from kiosk.kernel.tracking_id import new_tracking_id

    tracking_id = new_tracking_id("MT01")
    receipt = ReceiptContent(tracking_id=tracking_id, created_at=dt.datetime.now(dt.timezone.utc), institution="Kab",
                             kiosk_location="MPP", kind_label="Pengaduan", category_label="Kesehatan", title="x",
                             confidential=False, language="id")
    image = tmp_path / "receipt.png"
    render_png(parse_escpos(ReceiptLayout().render(receipt, gettext=gettext_for("id"))), image)
    config = write_config(tmp_path)
    run = kiosk(config, "scan", "--source", str(image))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines == [f"receipt.png: {tracking_id}  (report {tracking_id})", "image file decoded once: 1 QR code found"]
    assert "frame" not in run.stdout and "cable" not in run.stderr

    missing = kiosk(config, "scan", "--source", str(tmp_path / "nope.png"))
    assert missing.returncode == 1 and "no such file" in missing.stderr and "cable" not in missing.stderr


def test_print_test_is_marked_as_a_test_not_a_receipt(tmp_path, sim):
    from kiosk.core.receipt import PRINTER_TEST_BANNER

    config = write_config(tmp_path, printer="network", printer_host="127.0.0.1", printer_port=sim.port)
    assert kiosk(config, "print-test").returncode == 0
    for job in sim.wait_for_jobs(2):
        printed = parse_escpos(job)
        lines = [line for line in printed.text.splitlines() if line.strip()]
        assert lines[0] == lines[-1] == PRINTER_TEST_BANNER
        assert "Simpan struk ini" not in printed.text
        assert "MT01-00000-0000" in printed.text  # no number a citizen could take for a report's


def test_doctor_says_whether_a_headset_is_plugged_and_how_to_find_the_jack(tmp_path):
    jack = tmp_path / "jack"
    jack.write_text("1")
    run = kiosk(write_config(tmp_path, headset_jack=str(jack)), "doctor", "--json")
    row = {c["check"]: c for c in json.loads(run.stdout)}["headset"]
    assert row["ok"] and "headset plugged" in row["detail"]
    run = kiosk(write_config(tmp_path, headset_jack="alsa:99:Headphone Jack"), "doctor", "--json")
    row = {c["check"]: c for c in json.loads(run.stdout)}["headset"]
    assert not row["ok"] and run.returncode != 0
    assert "amixer -c 0 controls" in row["fix"]
