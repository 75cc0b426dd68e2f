"""Technician commands that need no screen: ``kiosk queue`` and ``kiosk sync --once``."""
from __future__ import annotations

import logging
import sys
from typing import Callable


from kiosk.kernel.clock import utc_now
from kiosk.runtime.config import Config
from kiosk.core.store.db import StoreError, open_store

log = logging.getLogger(__name__)


def _open(config: Config):
    try:
        return open_store(config.database_file, key_file=config.key_path)
    except StoreError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return None


def _env(config: Config):
    """The kiosk's environment, or None after saying why the store cannot be opened."""
    from kiosk.runtime.env import build_env

    try:
        return build_env(config)
    except StoreError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return None


def show_queue(config: Config, *, include_sent: bool = False) -> int:
    """One line per outbox entry: Tracking ID, state, attempts, next attempt, last error."""
    store = _open(config)
    if store is None:
        return 3
    try:
        from kiosk.runtime.admin import queue_entries
        from sync_queue.outbox import OutboxState

        entries = queue_entries(store, include_sent=include_sent)
        print(f"{'tracking id':16} {'state':8} {'tries':>5}  {'next attempt (UTC)':19}  last error")
        for e in entries:
            print(f"{e.tracking_id:16} {e.state:8} {e.attempts:5d}  {e.next_attempt_at:%Y-%m-%d %H:%M:%S}  {e.last_error or ''}")
        waiting = sum(1 for e in entries if e.state is not OutboxState.SENT)
        print(f"{waiting} waiting or failed")
        return 0
    finally:
        store.close()


def sync_once(config: Config) -> int:
    """One sync pass; exit 0 when the central was reached, 1 when not, 2 when not configured,
    4 when another process (the kiosk app) is delivering from this data directory: the pass
    holds the data directory's delivery lock, so it never races the app's worker."""
    if not config.central_url:
        print("kiosk: no central_url configured: this kiosk works offline only", file=sys.stderr)
        return 2
    env = _env(config)
    if env is None:
        return 3
    try:
        from sync_queue.lock import APP_ROLE, TECHNICIAN_ROLE

        if not env.sync.hold_lock(TECHNICIAN_ROLE):
            holder = env.sync.lock.holder()
            figures = env.sync.outbox.figures()
            who = "the kiosk app is" if holder is None or holder[1] == APP_ROLE else f"another {holder[1]} is"
            pid = f" (pid {holder[0]})" if holder else ""
            print(f"kiosk: {who} delivering right now{pid}; its queue: {figures.depth} waiting, "
                  f"{figures.failed} failed. Nothing was sent by this pass; `kiosk queue` shows the entries.",
                  file=sys.stderr)
            return 4
        env.sync.recover()
        total_sent = total_failed = 0
        while True:
            result = env.sync.run_once()
            total_sent += result.sent
            total_failed += result.failed
            if result.online is False:
                print(f"central not reached: {result.error}")
                print(f"sent {total_sent}, failed {total_failed}, waiting {env.reports.count_waiting()}")
                return 1
            if not (result.sent or result.failed):
                break
        print(f"sent {total_sent}, failed {total_failed}, waiting {env.reports.count_waiting()}")
        print("heartbeat " + ("sent" if env.sync.send_heartbeat() else "NOT sent (see the log)"))
        return 0
    finally:
        env.close()


def reprint(config: Config, tracking_id: str) -> int:
    """Print a copy (marked SALINAN/COPY) of a receipt this kiosk issued."""
    from kiosk.kernel.i18n import gettext_for
    from kiosk.kernel.tracking_id import TrackingIdError, parse_tracking_id

    try:
        canonical = parse_tracking_id(tracking_id)
    except TrackingIdError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    env = _env(config)
    if env is None:
        return 3
    try:
        content = env.reports.reprint(canonical, config=config)  # in the citizen's language
        if content is None:
            unreadable = env.reports.unreadable_reason(canonical)
            if unreadable:
                print(f"kiosk: report {canonical} cannot be reprinted: {unreadable}. "
                      "`kiosk doctor` counts such reports; `kiosk queue` shows its entry.", file=sys.stderr)
                return 1
            print(f"kiosk: no report {canonical} on this kiosk (a delivered report is kept "
                  f"{config.delivered_retention_days} days: delivered_retention_days)", file=sys.stderr)
            return 2
        outcome = env.print_async(content).result()
        if not outcome.ok:
            print(f"kiosk: not printed: {outcome.error} ({type(outcome.error).__name__})", file=sys.stderr)
            return 1
        print(f"reprinted {canonical}" + (f" to {outcome.path}" if outcome.path else ""))
        return 0
    finally:
        env.close()


def scan_source(source: str, *, as_json: bool, status_base_url: str = "", frames: int = 50) -> int:
    """Decode QR codes from a camera source. For a folder: one JSON line per image with the
    file name, the payloads found and the milliseconds taken. Also how a technician checks
    a camera: it fails with a sentence when the source cannot be opened."""
    import json
    import time
    from pathlib import Path

    import cv2

    from devices.camera import IMAGE_SUFFIXES, CameraUnavailable, open_source
    from devices.qr import decode_frame, tracking_id_from_payload

    path = Path(source)
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for image in images:
            frame = cv2.imread(str(image))
            started = time.perf_counter()
            payloads = decode_frame(frame) if frame is not None else []
            ms = (time.perf_counter() - started) * 1000
            ours = [t for t in (tracking_id_from_payload(p, status_base_url) for p in payloads) if t]
            print(json.dumps({"file": image.name, "payloads": payloads, "tracking_ids": ours, "ms": round(ms, 2)}))
        return 0 if images else 1
    if _looks_like_a_file(source) and not path.exists():
        print(f"kiosk: {source}: no such file. Check the path (camera_source or --source).", file=sys.stderr)
        return 1
    if path.suffix.lower() in IMAGE_SUFFIXES:  # one picture: decoded once, not read as 50 frames
        frame = cv2.imread(str(path))
        if frame is None:
            print(f"kiosk: {source}: not a readable image ({path.suffix} file)", file=sys.stderr)
            return 1
        payloads = decode_frame(frame)
        for payload in payloads:
            ours = tracking_id_from_payload(payload, status_base_url)
            if as_json:
                print(json.dumps({"file": path.name, "payload": payload, "tracking_id": ours}))
            else:
                print(f"{path.name}: {payload}" + (f"  (report {ours})" if ours else "  (not a receipt of ours)"))
        if not as_json:
            print(f"image file decoded once: {len(payloads)} QR code{'s' if len(payloads) != 1 else ''} found")
        return 0 if payloads else 1
    try:
        camera = open_source(source)
    except CameraUnavailable as exc:
        print(f"kiosk: {exc}. Check the camera_source setting, the cable, and that the user may open the device.",
              file=sys.stderr)
        return 1
    found = 0
    try:
        for index in range(frames):
            frame = camera.read()
            if frame is None:
                print("kiosk: the camera delivered no frame", file=sys.stderr)
                return 1
            for payload in decode_frame(frame):
                found += 1
                ours = tracking_id_from_payload(payload, status_base_url)
                if as_json:
                    print(json.dumps({"frame": index, "payload": payload, "tracking_id": ours}))
                else:
                    print(f"frame {index}: {payload}" + (f"  (report {ours})" if ours else "  (not a receipt of ours)"))
    finally:
        camera.release()
    return 0 if found else 1


def _looks_like_a_file(source: str) -> bool:
    """A camera source that names a file (not a device node, a camera index or a stream URL)."""
    source = source.strip()
    return bool(source) and "://" not in source and not source.isdigit() and not source.startswith("/dev/")


def _check_printer(config: Config, printer=None) -> tuple[bool, str, str]:
    """(ok, detail, fix): the profile is one python-escpos knows, and the printer, whatever
    its kind, says it is ready (``status()``). ``printer``: the running kiosk's own (asked,
    never closed); without it one is made from the config for this check and closed."""
    from devices.printer.capabilities import printer_profiles
    from kiosk.runtime.env import make_printer

    profiles = printer_profiles()  # never python-escpos itself: this runs in the kiosk's process too
    if profiles is None:
        return False, "python-escpos's printer database cannot be read", \
            "reinstall the kiosk (or correct ESCPOS_CAPABILITIES_FILE)"
    if config.printer_profile not in profiles:
        return False, f"unknown printer_profile {config.printer_profile!r}", \
            "use one of: " + ", ".join(sorted(profiles))

    own = printer is None
    printer = make_printer(config) if own else printer
    try:
        status = printer.status()
    finally:
        if own:
            printer.close()
    if status.error is not None:
        return False, f"{type(status.error).__name__}: {status.error}", status.error.technician_hint
    if config.printer == "file":  # receipts into a folder: nothing to ask, only where they go
        return True, f"file printer writing to {printer.target}", ""
    detail = f"{config.printer} printer {printer.target} ready"
    if status.paper == "low":
        detail += ", paper nearly out: load a new roll soon"
    if not status.can_read_status:
        detail += " (it cannot report its cover or paper)"
    return True, detail, ""


#: The camera check reads as fast as the camera gives frames (up to this), for as long as this.
CAMERA_CHECK_FPS = 60.0
CAMERA_CHECK_S = 20.0


def check_camera(config: Config) -> tuple[bool, str, str]:
    """(ok, detail, fix) for the configured camera: read as the scan screen reads it, in
    the camera's own process (:mod:`devices.camera_process`), until ten frames came, then
    ended. Used by ``kiosk doctor`` and the admin screen's camera test (which therefore
    leaves no OpenCV in the kiosk's memory either)."""
    import queue
    import time

    from devices.camera_process import CameraProcess
    from devices.camera_types import CameraError, CameraNotOpened

    if not config.camera_source:
        return True, "no camera configured: citizens type the report number", ""
    events: queue.Queue = queue.Queue()
    camera = CameraProcess(config.camera_source, on_frame=events.put, on_result=lambda _result: None,
                           on_error=events.put, fps=CAMERA_CHECK_FPS)
    camera.start()
    try:
        frames, first_at, deadline = [], None, time.monotonic() + CAMERA_CHECK_S
        while len(frames) < 10:
            try:
                item = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False, "the camera opened but delivered no frame", "replug the camera or try another USB port"
            if isinstance(item, CameraError):
                return False, str(item), ("check camera_source, the USB cable, and that the kiosk user may open the device"
                                          if isinstance(item, CameraNotOpened) else
                                          "replug the camera or try another USB port")
            frames.append(item)
            first_at = first_at or time.monotonic()
        rate = (len(frames) - 1) / max(1e-6, time.monotonic() - first_at)
    finally:
        camera.stop(wait=True)
    return True, f"{frames[-1].camera_width}x{frames[-1].camera_height} at about {rate:.0f} frames per second", ""


def check_microphone(config: Config) -> tuple[bool, str, str]:
    """(ok, detail, fix) for the microphone: the capture devices ALSA lists, the configured
    one opened for half a second with its level, and the Ogg Opus encoder. A device that
    delivers only silence is a warning (muted, or its capture level at zero)."""
    import math

    from devices.microphone import METER_FLOOR_DBFS, PROBLEM_FIXES, is_file_source, list_capture_devices, probe

    devices = list_capture_devices()
    listed = ("arecord missing: install alsa-utils" if devices is None
              else "capture devices: " + ("; ".join(devices) if devices else "none"))
    if not config.microphone_source:
        return True, f"no microphone configured: citizens type their report ({listed})", ""
    problem, detail, dbfs = probe(config.microphone_source, bitrate_kbps=config.microphone_bitrate_kbps)
    if problem is not None:
        return False, f"{config.microphone_source}: {detail} ({listed})", PROBLEM_FIXES[problem]
    fix = ("it delivers silence: unmute it and raise its capture level (`alsamixer`, F4)"
           if not is_file_source(config.microphone_source) and (dbfs == -math.inf or dbfs < METER_FLOOR_DBFS) else "")
    return True, f"{config.microphone_source}: {detail} ({listed})", fix


#: What to do about reports that wait on a kiosk with no central configured.
NO_CENTRAL_FIX = ("set central_url and central_token (`python -m central kiosk add` gives the token), "
                  "then `kiosk sync --once`; or, for an offline-only kiosk, collect them by hand")


def _check_central(config: Config, waiting: int | None = None) -> tuple[bool, str, str]:
    """(ok, detail, fix) for the central. No central configured is fine for a kiosk that
    keeps nothing waiting; with reports waiting it is a warning (ok, with a fix): they
    will never leave by themselves."""
    if not config.central_url:
        if waiting:
            return True, (f"no central configured: {waiting} report{'s' if waiting != 1 else ''} "
                          "waiting will never be sent from here"), NO_CENTRAL_FIX
        return True, "no central configured: reports stay on this kiosk", ""
    from sync_queue.client import CentralClient, CentralError, Unauthorized

    try:
        CentralClient(config.central_url, config.central_token, timeout=5).reference(None)
    except Unauthorized:
        return False, "the central refused this kiosk's token", \
            "register the kiosk with `python -m central kiosk add` and put the token in central_token"
    except CentralError as exc:
        return False, f"central not reachable: {exc}", "check the network and central_url"
    return True, f"{config.central_url} reachable, token accepted", ""


#: What to do about a database file SQLite finds damaged.
DAMAGED_DATABASE_FIX = ("the database file is damaged: stop the kiosk, copy the whole data directory (database AND "
                        "key) somewhere safe, and restore the last backup (docs/DEPLOY.md, \"Update\"); "
                        "reports already sent are safe at the central")
UNREADABLE_REPORTS_FIX = ("those reports' stored text is damaged (not the key: it opens the database's key check); "
                          "the central never got them: `kiosk queue` lists them as failed, \"unreadable\", by Tracking ID; "
                          "restore a backup made before the damage, or have those citizens file again")


def _integrity_words(config: Config) -> tuple[bool, str]:
    """(ok, words) of SQLite's quick check of the database file, with the time it took."""
    from kiosk.core.store.db import quick_check

    result = quick_check(config.database_file)
    if result.ok:
        return True, f"quick check ok in {result.seconds:.2f} s"
    return False, f"quick check found damage in {result.seconds:.2f} s: " + "; ".join(result.problems)


def _database_row(config: Config, store) -> tuple[str, bool, str, str]:
    """The doctor's database row: schema, waiting reports, SQLite's quick check and the
    reports that cannot be read. Never raises: each part that fails is said as such."""
    from kiosk.core.reports import ReportService
    from kiosk.core.store.db import SCHEMA_HEAD

    intact, integrity = _integrity_words(config)
    words, fixes, ok = [str(config.database_file)], [], intact
    service = ReportService(store, kiosk_code=config.kiosk_code, clock=lambda: None)
    try:
        revision = store.schema_revision()
        ok = ok and revision == SCHEMA_HEAD
        words.append(f"schema {revision}")
        words.append(f"{service.count_waiting()} reports waiting")
        unreadable = len(service.unreadable_ids())
    except Exception as exc:  # noqa: BLE001 - a damaged file: the doctor reports, it does not crash
        ok = False
        words.append(f"reading it failed ({type(exc).__name__})")
        unreadable = None
    words.append(integrity)
    if not intact or unreadable is None:
        fixes.append(DAMAGED_DATABASE_FIX)
    if unreadable:
        ok = False
        words.append(f"{unreadable} unreadable report{'s' if unreadable != 1 else ''}")
        fixes.append(UNREADABLE_REPORTS_FIX)
    return ("database", ok, ", ".join(words), "; ".join(fixes))


def _waiting(config: Config, store) -> int | None:
    """Reports not yet confirmed by a central, or None when the store cannot say."""
    from kiosk.core.reports import ReportService

    try:
        return ReportService(store, kiosk_code=config.kiosk_code, clock=lambda: None).count_waiting()
    except Exception as exc:  # noqa: BLE001 - the database row already says what is wrong
        log.info("waiting count unreadable (%s)", type(exc).__name__)
        return None


def _device_rows(config: Config, printer_check: Callable[[], tuple[bool, str, str]],
                 waiting: int | None = None) -> list[tuple[str, bool, str, str]]:
    rows = []
    from kiosk.runtime.speech import check_audio, check_headset, check_voice

    for name, check in (("printer", printer_check), ("camera", lambda: check_camera(config)),
                        ("microphone", lambda: check_microphone(config)),
                        ("audio", lambda: check_audio(config)), ("voice", lambda: check_voice(config)),
                        ("headset", lambda: check_headset(config)),
                        ("central", lambda: _check_central(config, waiting))):
        try:
            rows.append((name, *check()))
        except Exception as exc:  # noqa: BLE001 - the doctor reports, it does not crash
            rows.append((name, False, f"unexpected {type(exc).__name__}", "see the kiosk log"))
    return rows


def checks(config: Config) -> list[tuple[str, bool, str, str]]:
    """(name, ok, detail, fix) for config, database, printer, camera and central: what
    ``kiosk doctor`` prints. It opens the store and the printer itself: no kiosk is running."""
    results = [("config", True, f"loaded from {config.source}", "")]
    waiting = None
    try:
        store = open_store(config.database_file, key_file=config.key_path)
    except StoreError as exc:
        intact, integrity = _integrity_words(config) if config.database_file.exists() else (True, "no database file")
        results.append(("database", False, f"{exc}; {integrity}",
                        "check the disk, the data directory's permissions and the key file" if intact
                        else DAMAGED_DATABASE_FIX))
    else:
        try:
            results.append(_database_row(config, store))
            waiting = _waiting(config, store)
        finally:
            store.close()
    return results + _device_rows(config, lambda: _check_printer(config), waiting)


#: How long the admin screen's printer check waits for receipts already queued before it.
PRINTER_CHECK_WAIT_S = 120.0


def env_checks(env) -> list[tuple[str, bool, str, str]]:
    """The same checks for a running kiosk (the admin screen): its own store, and the
    printer asked on the printer's thread, after any receipt queued before, so a check
    never interleaves with a receipt. Blocks: run it off the UI thread."""
    import concurrent.futures

    config = env.config
    results = [("config", True, f"loaded from {config.source}", "")]
    try:
        results.append(_database_row(config, env.store))
    except Exception as exc:  # noqa: BLE001 - the admin screen reports, it does not crash
        results.append(("database", False, f"unexpected {type(exc).__name__}", "see the kiosk log"))

    def printer_check() -> tuple[bool, str, str]:
        try:
            return env.on_printer_thread(lambda: _check_printer(config, env.printer)).result(timeout=PRINTER_CHECK_WAIT_S)
        except concurrent.futures.TimeoutError:
            return False, "the printer is still busy with earlier receipts", "check again in a moment"

    return results + _device_rows(config, printer_check, _waiting(config, env.store))


def doctor(config: Config, *, as_json: bool) -> int:
    """Check config, database, printer, camera and central. Each row is OK, WARN (it works,
    but there is something to do: a row that is ok and still has a fix) or FAIL. Exit 1
    when any row fails; a warning alone exits 0, so an offline-only kiosk (no central, on
    purpose) does not alarm its monitoring forever: the WARN line says how many reports
    wait there and what to do."""
    import json

    results = checks(config)
    if as_json:
        print(json.dumps([{"check": n, "ok": ok, "warning": bool(ok and f), "detail": d, "fix": f}
                          for n, ok, d, f in results], indent=1))
    else:
        for name, ok, detail, fix in results:
            word = "FAIL" if not ok else "WARN" if fix else " OK "
            print(f"[{word}] {name}: {detail}" + (f"\n       fix: {fix}" if fix else ""))
    return 0 if all(ok for _, ok, _, _ in results) else 1


def print_test_receipts(config: Config, printer=None) -> list[tuple[str, object]]:
    """A test receipt in each QR mode, marked "TES PRINTER - BUKAN TANDA TERIMA" at top and
    bottom, with an all-zero number; (mode, PrintOutcome) for each. ``printer``: the
    running kiosk's own (call this on its printer thread; it is not closed); without it
    one is made from the config and closed."""
    import dataclasses

    from kiosk.runtime.env import make_printer, receipt_layout
    from kiosk.kernel.i18n import gettext_for
    from kiosk.core.receipt import ReceiptContent, print_receipt
    from kiosk.kernel.tracking_id import new_tracking_id

    outcomes = []
    own = printer is None
    printer = make_printer(config) if own else printer
    try:
        for qr_mode in ("native", "image"):
            content = ReceiptContent(
                # All zeros: no number a citizen could mistake for a report of theirs.
                tracking_id=new_tracking_id(config.kiosk_code, randbits=lambda _bits: 0), created_at=utc_now(),
                institution=config.institution_name, kiosk_location=config.kiosk_location,
                kind_label=f"TES PRINTER: QR {qr_mode}",
                category_label=f"{config.paper_width_mm} mm, {config.printer_code_page}",
                title="Contoh: Teweh Tengah, rp 5.000, é à ü ñ ç, “kutip” – ok", confidential=False, language="id",
                printer_test=True,
            )
            layout = dataclasses.replace(receipt_layout(config), qr_mode=qr_mode)
            outcomes.append((qr_mode, print_receipt(printer, content, layout=layout)))
    finally:
        if own:
            printer.close()
    return outcomes


def print_test(config: Config) -> int:
    """A test receipt in each QR mode, with the printer's settings and a code page sample."""
    failures = 0
    for qr_mode, outcome in print_test_receipts(config):
        if outcome.ok:
            print(f"QR {qr_mode}: printed ({outcome.bytes_sent} bytes)" + (f" to {outcome.path}" if outcome.path else ""))
        else:
            failures += 1
            print(f"QR {qr_mode}: NOT printed: {type(outcome.error).__name__}: {outcome.error}")
    from devices.printer.capabilities import printer_profiles, profile_supports

    profiles = printer_profiles() or {}
    if config.printer_profile not in profiles:
        print(f"Profile {config.printer_profile} is not one python-escpos knows: `kiosk doctor` lists them.")
    elif not profile_supports(profiles, config.printer_profile, "qrCode"):
        print(f"Profile {config.printer_profile} has no native QR code: set printer_qr = \"image\".")
    print("If the native QR code did not appear on paper, set printer_qr = \"image\".")
    return 1 if failures else 0


# -- ``kiosk admin ...``: what the admin screen does, from a shell -------------------------
def admin_hash_pin(read_pin) -> int:
    """Print the ``admin_pin_hash`` line for the config file; the PIN is read, never echoed."""
    from kiosk.core.pin import PinError, hash_pin

    pin = read_pin("New admin PIN (6 to 12 digits): ")
    if read_pin("The same PIN again: ") != pin:
        print("kiosk: the two PINs differ; nothing changed", file=sys.stderr)
        return 2
    try:
        print(f'admin_pin_hash = "{hash_pin(pin)}"')
    except PinError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    return 0


def admin_retry_failed(config: Config) -> int:

    from kiosk.runtime.admin import retry_failed

    store = _open(config)
    if store is None:
        return 3
    try:
        count = retry_failed(store, utc_now())
    finally:
        store.close()
    print(f"{count} failed reports queued again; everything waiting is due now")
    return 0


def admin_language(config: Config, language: str | None) -> int:
    from kiosk.runtime.admin import default_language, set_default_language

    if language:
        set_default_language(config, language)
    print(default_language(config))
    return 0


def admin_config(config: Config) -> int:
    from kiosk.runtime.admin import config_rows

    print(f"# loaded from {config.source}")
    for key, shown in config_rows(config):
        print(f"{key} = {shown}")
    return 0
