"""One replaceable environment: everything the kiosk touches outside itself.

``main.py``/``kiosk run`` builds it from the configuration; tests build it with
temporary paths and file-backed devices. The UI receives it and never reaches past it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, TypeVar

from devices.printer.base import PrintOutcome, ReceiptPrinter
from devices.printer.file import FilePrinter
from kiosk.kernel.clock import local_date, utc_now
from kiosk.runtime.config import Config
from kiosk.core.receipt import ReceiptContent
from kiosk.core.reports import ReportService
from kiosk.core.store.db import Store, open_store
from kiosk.core import reference

if TYPE_CHECKING:
    from sync_queue.worker import SyncWorker

log = logging.getLogger(__name__)
T = TypeVar("T")

@dataclasses.dataclass
class KioskEnv:
    """Config, clocks, store, services and devices of one running kiosk."""

    config: Config
    store: Store
    reports: ReportService
    printer: ReceiptPrinter
    sync: "SyncWorker | None" = None  # None: no central configured (offline only)
    now: Callable[[], dt.datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic
    _print_pool: ThreadPoolExecutor = dataclasses.field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="printer")
    )

    def today(self) -> dt.date:
        """The kiosk's local date (WIB)."""
        return local_date(self.now())

    def print_async(self, content: ReceiptContent, gettext: Callable[[str], str]) -> Future[PrintOutcome]:
        """Print on the printer's worker thread; the caller gets a future at once."""
        return self._print_pool.submit(self.printer.print_receipt, content, gettext=gettext)

    def on_printer_thread(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` on the printer's worker thread, after any receipt before it (so
        a status question never interleaves with a receipt's bytes)."""
        return self._print_pool.submit(work)

    def close(self) -> None:
        if self.sync is not None:
            self.sync.stop()
        self._print_pool.shutdown(wait=True)
        self.printer.close()
        self.store.close()


def make_printer(config: Config) -> ReceiptPrinter:
    """The printer the configuration names (the file printer by default)."""
    options = dict(qr_mode=config.printer_qr, paper_width_mm=config.paper_width_mm, encoding=config.printer_code_page,
                   profile=config.printer_profile)
    timeout = config.printer_timeout_s
    if config.printer == "network":
        from devices.printer.network import NetworkPrinter

        return NetworkPrinter(config.printer_host, config.printer_port, timeout=timeout, **options)
    if config.printer == "serial":
        from devices.printer.network import SerialPrinter

        return SerialPrinter(config.printer_device, config.printer_baudrate, timeout=timeout, **options)
    if config.printer == "usb":
        from devices.printer.network import UsbPrinter

        return UsbPrinter(int(config.printer_usb_vendor, 16), int(config.printer_usb_product, 16), timeout=timeout, **options)
    if config.printer == "device":
        from devices.printer.network import DevicePrinter

        return DevicePrinter(config.printer_device, timeout=timeout, **options)
    return FilePrinter(config.receipts_path, **options)


def build_env(config: Config, **overrides) -> KioskEnv:
    """Open the store (migrating it), load seed data, and create the devices."""
    data = config.data_path
    store = open_store(config.database_file, key_file=data / "secret.key")
    reference.load_seed_if_empty(store, reference.SEED_FILE)
    now = overrides.pop("now", utc_now)
    reports = ReportService(store, kiosk_code=config.kiosk_code, clock=now, min_free_disk_mb=config.min_free_disk_mb)
    printer = overrides.pop("printer", None) or make_printer(config)
    env = KioskEnv(config=config, store=store, reports=reports, printer=printer, now=now, **overrides)
    if config.central_url:
        from kiosk.runtime.heartbeat import Heartbeat
        from sync_queue.client import CentralClient
        from sync_queue.worker import SyncWorker

        heartbeat = Heartbeat(config=config, store=store, printer=printer, now=now, on_printer_thread=env.on_printer_thread)
        env.sync = SyncWorker(store, reports, CentralClient(config.central_url, config.central_token), now=now,
                              heartbeat=heartbeat.gather, heartbeat_interval_s=config.heartbeat_interval_s)
    return env
