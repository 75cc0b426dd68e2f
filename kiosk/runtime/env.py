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

from devices.printer.base import PrintOutcome, PrinterStatus, ReceiptPrinter
from devices.printer.registry import build_printer
from kiosk.kernel.clock import local_date, utc_now
from kiosk.runtime.background import BackgroundRunner
from kiosk.runtime.config import Config
from kiosk.core.receipt import LayoutChild, ReceiptContent, ReceiptLayout, print_receipt
from kiosk.core.help_call import HelpCall
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
    #: Slow work off the UI thread (status lookups, admin checks), bounded: see background.py.
    background: BackgroundRunner = dataclasses.field(default_factory=BackgroundRunner)
    #: "Minta bantuan petugas": the kiosk's help call, which the heartbeat carries (build_env).
    help_call: HelpCall | None = None
    _player: object = None  # the audio player, once made (``player``)
    _layout_child: LayoutChild | None = None  # started ahead of the next receipt; the printer thread's

    def __post_init__(self) -> None:
        if self.help_call is None:  # no central (or one added by build_env below): local only
            self.help_call = HelpCall(self.monotonic)

    def today(self) -> dt.date:
        """The kiosk's local date (WIB)."""
        return local_date(self.now())

    def print_async(self, content: ReceiptContent) -> Future[PrintOutcome]:
        """Lay out (in its child, in the receipt's language: the one started ahead by
        :meth:`prepare_receipt`, else a new one) and print on the printer's worker thread;
        the caller gets a future at once."""
        printer, layout = self.printer, receipt_layout(self.config)

        def job() -> PrintOutcome:
            child, self._layout_child = self._layout_child, None
            return print_receipt(printer, content, layout=layout, child=child)

        return self._print_pool.submit(job)

    def prepare_receipt(self) -> Future[bool]:
        """Start the receipt's layout child now (the citizen is on the review), so that the
        receipt after "Kirim" is laid out in milliseconds (kiosk.core.receipt); the future
        says when it is ready (the UI does not wait for it)."""
        def start() -> bool:
            if self._layout_child is None:
                self._layout_child = LayoutChild()
            return self._layout_child.wait_ready()

        return self._print_pool.submit(start)

    def forget_receipt(self) -> None:
        """End a layout child started for a receipt that was not printed (the citizen went
        back or away): between citizens, no child waits."""
        def end() -> None:
            child, self._layout_child = self._layout_child, None
            if child is not None:
                child.discard()

        self._print_pool.submit(end)

    def on_printer_thread(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` on the printer's worker thread, after any receipt before it (so
        a status question never interleaves with a receipt's bytes)."""
        return self._print_pool.submit(work)

    def printer_status_async(self) -> Future[PrinterStatus]:
        """Ask the printer how it is (:meth:`ReceiptPrinter.status`) on its own thread,
        after any receipt before it; never raises into the future for a printer fault."""
        return self.on_printer_thread(self.printer.status)

    def tidy_printer(self) -> Future[int]:
        """The printer's housekeeping (:meth:`ReceiptPrinter.tidy`) on its own thread."""
        return self.on_printer_thread(self.printer.tidy)

    @property
    def player(self):
        """The one audio player (``devices.audio.Player``, its thread started), made the
        first time something is said or played: an idle kiosk loads no voice."""
        if self._player is None:
            from kiosk.runtime.speech import make_player

            self._player = make_player(self.config)
        return self._player

    def close(self) -> None:
        if self._player is not None:
            self._player.close()
        if self.sync is not None:
            self.sync.stop()
        self.background.close()  # before the printer thread and the store its jobs may use
        self.forget_receipt()
        self._print_pool.shutdown(wait=True)
        self.printer.close()
        self.store.close()


def make_printer(config: Config) -> ReceiptPrinter:
    """The printer the configuration names (the file printer by default), through the
    registry of printer kinds."""
    return build_printer(config.values, receipts_dir=config.receipts_path)


def receipt_layout(config: Config) -> ReceiptLayout:
    """How the configuration lays receipts out (QR mode, paper, code page, profile)."""
    return ReceiptLayout(qr_mode=config.printer_qr, paper_width_mm=config.paper_width_mm,
                         encoding=config.printer_code_page, profile=config.printer_profile)


def build_env(config: Config, **overrides) -> KioskEnv:
    """Open the store (migrating it), load seed data, and create the devices."""
    data = config.data_path
    store = open_store(config.database_file, key_file=config.key_path)
    reference.load_seed_if_empty(store, reference.SEED_FILE)
    now = overrides.pop("now", utc_now)
    reports = ReportService(store, kiosk_code=config.kiosk_code, clock=now, min_free_disk_mb=config.min_free_disk_mb)
    printer = overrides.pop("printer", None) or make_printer(config)
    env = KioskEnv(config=config, store=store, reports=reports, printer=printer, now=now, **overrides)
    if config.central_url:
        from kiosk.core.sync_tasks import housekeeping_tasks
        from kiosk.runtime.heartbeat import Heartbeat, HeartbeatTask
        from sync_queue.client import CentralClient
        from sync_queue.lock import LOCK_FILE
        from sync_queue.worker import SyncWorker

        client = CentralClient(config.central_url, config.central_token)
        tasks = housekeeping_tasks(store, client, now, retention_days=config.delivered_retention_days,
                                   stopping=lambda: worker.stopping)  # the worker made just below
        worker = SyncWorker(store, reports, client, now=now, tasks=tasks,
                            monotonic=env.monotonic, lock_path=data / LOCK_FILE)
        heartbeat = Heartbeat(config=config, store=store, printer=printer, now=now, on_printer_thread=env.on_printer_thread,
                              clock_step=worker.tasks.clock_watch.last_step)
        env.help_call = HelpCall(env.monotonic, central=True, on_change=worker.heartbeat_soon)
        worker.add_task(HeartbeatTask(heartbeat.gather, client, last_sync_at=lambda: worker.last_success_at,
                                      interval_s=config.heartbeat_interval_s, help_call=env.help_call))
        env.sync = worker
    return env
