"""The PyInstaller bundle (kiosk.spec), built once for this module and started headless.

The bundle is what goes onto a kiosk, so it is checked the way a technician would: the
bundled executable draws Welcome on a fresh data directory (the frozen Alembic migrations
create the store), prints a test receipt through python-escpos with a profile that only
its bundled capabilities.json knows, and reads receipt QR codes with zxing-cpp and, where
zxing-cpp gives up, with the libzbar the bundle carries. Building takes about a minute.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.support.servers import ROOT  # noqa: E402
ARTIFACTS = ROOT / "tests" / "artifacts"
PROFILE = "TM-T88III"  # in python-escpos's capabilities.json, not in its built-in fallback

pytestmark = pytest.mark.slow


def built_bundle(tmp_path_factory) -> Path:
    """``kiosk.spec`` built with the pinned PyInstaller into the session's temporary folder
    (not dist/), once per test run: this module and tests/e2e/test_upgrade.py share it."""
    work = tmp_path_factory.getbasetemp() / "bundle"
    executable = work / "dist" / "kiosk" / "kiosk"
    if (work / "built").is_file():
        return executable
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    built = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(ROOT / "kiosk.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert built.returncode == 0, f"PyInstaller failed:\n{built.stdout[-3000:]}\n{built.stderr[-6000:]}"
    assert executable.is_file() and os.access(executable, os.X_OK)
    (work / "built").touch()
    return executable


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """The bundle's executable, ``dist/kiosk/kiosk``."""
    return built_bundle(tmp_path_factory)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nkiosk_code = "MT01"\nprinter_profile = "{PROFILE}"\n',
                    encoding="utf-8")
    return path


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No display (SDL2 falls back to an offscreen EGL surface), a fresh Kivy home, and
    none of the developer's KIVY_* / KIOSK_* settings."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("KIVY_", "KIOSK_", "LD_")) and key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ.update(KIVY_NO_ARGS="1", KIVY_LOG_MODE="PYTHON", KIVY_HOME=str(tmp_path / "kivy-home"), **extra)
    return environ


def _run(command: list[str], tmp_path: Path, *, timeout: float = 180, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=tmp_path, env=_environ(tmp_path, **extra_env), capture_output=True,
                          text=True, timeout=timeout)


def test_bundled_kiosk_draws_welcome_on_a_fresh_data_dir(bundle, tmp_path):
    """GIVEN a fresh data directory and no display
    WHEN the bundled kiosk runs with --screenshot
    THEN it exits 0 after drawing Welcome, the frozen migrations made the database, and
    the frame is what the kiosk from source draws."""
    config = _config(tmp_path)
    shot = tmp_path / "welcome.png"
    result = _run([str(bundle), "--config", str(config), "run", "--screenshot", str(shot)], tmp_path)
    assert result.returncode == 0, result.stderr[-6000:]
    assert "screenshot of the welcome screen (1280x800, store open) saved to" in result.stderr
    # The bundle started itself as the migration's child (main.py's store-migrate word).
    assert "database migrated from schema none to" in result.stderr and "in its own process" in result.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "bundle-welcome.png")

    from kiosk.core.store.db import SCHEMA_HEAD

    database = tmp_path / "data" / "kiosk.sqlite3"
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (SCHEMA_HEAD,)
        assert conn.execute("SELECT count(*) FROM categories").fetchone()[0] > 0  # seed data from assets/

    frozen = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert frozen.shape == (800, 1280, 3)
    assert len(np.unique(frozen.reshape(-1, 3), axis=0)) > 50, "a blank or nearly blank frame"

    source_dir = tmp_path / "from-source"
    source_dir.mkdir()
    reference = source_dir / "welcome.png"
    from_source = _run([sys.executable, str(ROOT / "main.py"), "--config", str(_config(source_dir)), "run",
                        "--screenshot", str(reference)], source_dir)
    assert from_source.returncode == 0, from_source.stderr[-6000:]
    expected = np.asarray(Image.open(reference).convert("RGB"), dtype=np.int16)
    differing = np.any(np.abs(frozen - expected) > 8, axis=2).mean()
    assert differing < 0.001, f"{differing:.2%} of the pixels differ from the kiosk run from source"


def test_bundled_print_test_knows_the_escpos_profiles(bundle, tmp_path):
    """python-escpos reads capabilities.json at import; without it only the profile
    "default" exists. The bundle checks and prints with a TM-T88III profile."""
    from devices.escpos_sim import parse_escpos

    config = _config(tmp_path)
    doctor = _run([str(bundle), "--config", str(config), "doctor", "--json"], tmp_path)
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert checks["printer"]["ok"], checks["printer"]
    assert checks["database"]["ok"], checks["database"]
    # espeak-ng travels in the bundle (kiosk.spec): its library and both voices load
    assert checks["voice"]["ok"] and "voices: id, en" in checks["voice"]["detail"], checks["voice"]
    assert doctor.returncode == 0, doctor.stderr[-3000:]

    printed = _run([str(bundle), "--config", str(config), "print-test"], tmp_path)
    assert printed.returncode == 0, printed.stdout + printed.stderr[-3000:]
    receipts = sorted((tmp_path / "data" / "receipts").glob("*.bin"))
    assert len(receipts) == 2
    native = [parse_escpos(p.read_bytes()) for p in receipts if "QR native" in parse_escpos(p.read_bytes()).text]
    assert len(native) == 1
    tracking_ids = {p.name.split("-")[0] for p in receipts}
    assert set(native[0].qr_payloads) <= tracking_ids and len(native[0].qr_payloads) == 1
    assert all(p.with_suffix(".png").is_file() for p in receipts)


def _frozen_modules(executable: Path) -> set[str]:
    """The Python modules inside the bundle's PYZ archive, read with PyInstaller's own
    archive reader (the PYZ is embedded in the executable's PKG archive)."""
    from PyInstaller.archive.readers import PKG_ITEM_PYZ, CArchiveReader

    package = CArchiveReader(str(executable))
    modules: set[str] = set()
    for name, (*_, typecode) in package.toc.items():
        if typecode == PKG_ITEM_PYZ:
            modules |= set(package.open_embedded_archive(name).toc)
    return modules


def test_bundle_carries_no_simulator_and_no_test_code(bundle):
    """GIVEN the bundle that goes onto a kiosk
    WHEN its runtime's archive of frozen modules and its app/ folder are listed
    THEN the product's code is in app/ only (a code-only upgrade replaces app/ alone: the
    runtime freezes none of it), compiled, and no test code is anywhere: no module under
    ``tests`` and no printer simulator (they live in tests/support)."""
    frozen = _frozen_modules(bundle)
    assert {"kivy", "sqlalchemy", "alembic", "cryptography"} <= {m.split(".")[0] for m in frozen}, \
        "the archive was not read: the runtime's packages are missing from it"
    assert not [m for m in frozen if m.split(".")[0] in ("kiosk", "screens", "devices", "sync_queue", "assets")]
    app = bundle.parent / "app"
    own = {".".join(p.relative_to(app).with_suffix("").parts) for p in app.rglob("*.py")}
    assert {"kiosk.launcher", "devices.printer.registry", "devices.printer.network", "devices.escpos_sim",
            "kiosk.runtime.upgrade"} <= own
    assert (app / "kiosk" / "__pycache__").is_dir() and (app / "screens" / "__pycache__").is_dir()
    modules = frozen | own
    assert not [m for m in modules if m == "tests" or m.startswith("tests.")]
    assert not [m for m in modules if "printer_sim" in m]
    for folder in (bundle.parent / "_internal", app):
        assert not (folder / "tests").exists()
        assert not [p for p in folder.rglob("*printer_sim*")]
    runtime = json.loads((bundle.parent / "runtime.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"[0-9a-f]{16}", runtime["runtime"])


def _frames_for_each_decoder(tmp_path: Path) -> tuple[str, list[np.ndarray], list[np.ndarray]]:
    """A receipt's Tracking ID, webcam frames zxing-cpp reads, and frames only pyzbar (on
    the thresholded frame, as devices/qr.py does) reads, found with both libraries here."""
    import zxingcpp
    from pyzbar.pyzbar import ZBarSymbol, decode

    from devices.printer.file import FilePrinter
    from kiosk.core.receipt import ReceiptContent, print_receipt
    from kiosk.kernel.tracking_id import new_tracking_id
    from tests.support.webcam import webcam_frames

    tid = new_tracking_id("MT01")
    content = ReceiptContent(tid, dt.datetime(2026, 11, 23, 3, 42, tzinfo=dt.timezone.utc),
                             "Pemerintah Kabupaten Barito Utara", "MPP Muara Teweh", "Pengaduan", "Kesehatan",
                             "Antrean lama", False, "id")
    png = print_receipt(FilePrinter(tmp_path / "printed"), content).path.with_suffix(".png")

    def by_zxing(frame):
        return [r.text for r in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)]

    def by_zbar(frame):
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 10)
        return [s.data.decode() for s in decode(binary, symbols=[ZBarSymbol.QRCODE])]

    easy = [f for f in webcam_frames(png, 5, seed=1) if by_zxing(f) == [tid]][:2]
    only_zbar = []
    for seed in range(7, 17):
        only_zbar += [f for f in webcam_frames(png, 40, seed=seed, hard=True) if not by_zxing(f) and by_zbar(f) == [tid]]
        if len(only_zbar) >= 2:
            break
    assert easy and only_zbar, "no frames to test each decoder with"
    return tid, easy, only_zbar[:2]


def test_bundled_scan_reads_receipts_with_zxing_and_the_bundled_zbar(bundle, tmp_path):
    """GIVEN webcam frames of a receipt, some that zxing-cpp reads and some that only
    pyzbar reads
    WHEN the bundled ``kiosk scan`` reads the folder
    THEN every frame gives the Tracking ID, and pyzbar loaded libzbar from the bundle by
    its path (the dynamic loader's own trace says so), not through the system's search."""
    tid, easy, only_zbar = _frames_for_each_decoder(tmp_path)
    folder = tmp_path / "frames"
    folder.mkdir()
    for name, frame in [(f"zxing-{i}.png", f) for i, f in enumerate(easy)] + \
                       [(f"zbar-{i}.png", f) for i, f in enumerate(only_zbar)]:
        cv2.imwrite(str(folder / name), frame)

    scanned = _run([str(bundle), "--config", str(_config(tmp_path)), "scan", "--source", str(folder), "--json"],
                   tmp_path, LD_DEBUG="files")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr[-3000:]
    results = {row["file"]: row["tracking_ids"] for row in map(json.loads, scanned.stdout.splitlines())}
    assert results == {p.name: [tid] for p in folder.iterdir()}

    internal = bundle.parent / "_internal"
    bundled_zbar = re.escape(str(internal / "libzbar.so.0"))
    assert re.search(rf"file={bundled_zbar} \[0\];\s+dynamically loaded by", scanned.stderr), \
        "pyzbar did not load the bundle's libzbar.so.0"
    assert (internal / "escpos" / "capabilities.json").is_file()


def test_bundled_doctor_reads_the_camera_in_its_own_process(bundle, tmp_path):
    """GIVEN a camera showing the hall (1280x720 frames on file)
    WHEN the bundled ``kiosk doctor`` checks it
    THEN the camera line is OK: the bundle started the camera's process as itself
    (``camera-serve``, handed on by main.py), which read the frames."""
    folder = tmp_path / "camera"
    folder.mkdir()
    for n in range(3):
        cv2.imwrite(str(folder / f"hall-{n}.png"), np.full((720, 1280, 3), 90, np.uint8))
    config = _config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + f'camera_source = "{folder}"\n', encoding="utf-8")
    run = _run([str(bundle), "--config", str(config), "doctor", "--json"], tmp_path)
    camera = next((c for c in json.loads(run.stdout or "[]") if c["check"] == "camera"), None)
    assert camera is not None, run.stdout + run.stderr[-3000:]
    assert camera["ok"] and camera["detail"].startswith("1280x720 at about "), camera


def test_bundled_microphone_records_ogg_opus(bundle, tmp_path):
    """libsndfile with Ogg Opus travels in the bundle (the soundfile wheel's copy): the
    doctor reads a WAV file as the microphone and puts it through the encoder and back."""
    import soundfile

    voice = tmp_path / "voice.wav"
    t = np.arange(16_000) / 16_000
    soundfile.write(voice, (np.sin(2 * np.pi * 300 * t) * 3277).astype("<i2"), 16_000, subtype="PCM_16")
    config = _config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + f'microphone_source = "{voice}"\n', encoding="utf-8")
    doctor = _run([str(bundle), "--config", str(config), "doctor", "--json"], tmp_path)
    microphone = {c["check"]: c for c in json.loads(doctor.stdout)}["microphone"]
    assert microphone["ok"] and "Ogg Opus at 20 kbit/s encodes and decodes" in microphone["detail"], microphone


def test_bundle_leaves_out_what_no_kiosk_session_loads(bundle):
    """What kiosk.spec leaves out because no kiosk session ever opened it (measured with
    strace: docs/DEPLOY.md, "What the kiosk loads") stays out, while what OpenCV's own
    library links (FFmpeg, OpenBLAS) stays in: the other tests here run those sessions."""
    internal = bundle.parent / "_internal"
    assert not (internal / "numpy" / "random").exists() and not (internal / "numpy" / "fft").exists()
    assert not list(internal.glob("python3.*/lib-dynload/_codecs_jp*"))
    assert not list(internal.glob("kivy/graphics/svg*")) and not (internal / "kivy_install" / "modules").exists()
    assert list(internal.glob("opencv_python_headless.libs/libavcodec-*")), "cv2.abi3.so links FFmpeg: keep it"
