"""Time from "Kirim" to the receipt bytes reaching the printer, through the real parts (the
receipt's layout child started on the review, as the review screen starts it)."""
from __future__ import annotations

import time
from pathlib import Path

from devices.printer.file import FilePrinter
from kiosk.core import reference
from kiosk.runtime.config import load_config
from kiosk.core.domain import ReportKind
from kiosk.runtime.env import build_env
from kiosk.core.flow import FilingFlow, Step
from kiosk.core.receipt_content import receipt_content


class _TimedFilePrinter(FilePrinter):
    """The file printer, noting when the bytes are handed over."""

    handed_at: float = 0.0

    def _send(self, data: bytes, *args, **kwargs):
        self.handed_at = time.perf_counter()
        return super()._send(data, *args, **kwargs)


def submit_latencies(data_dir: Path, count: int) -> list[float]:
    config_file = data_dir / "bench.toml"
    config_file.write_text(f'data_dir = "{data_dir}"\n', encoding="utf-8")
    config = load_config(config_file, environ={})
    printer = _TimedFilePrinter(config.receipts_path)
    env = build_env(config, printer=printer)
    try:
        category = reference.categories(env.store, "id")[0].code
        kecamatan = reference.kecamatan(env.store)[0].code
        latencies = []
        for i in range(count):
            flow = FilingFlow(today=env.today)
            flow.choose_kind(ReportKind.PENGADUAN)
            flow.choose_category(category)
            flow.next()
            flow.choose_agency(None)  # "Tidak tahu": the officer decides
            flow.next()
            flow.set_text("title", f"Antrean pelayanan nomor {i}")
            flow.set_text("description", "Antrean di loket pelayanan sangat panjang dan tidak tertib. " * 20)
            flow.next()
            flow.choose_kecamatan(kecamatan)
            flow.next()
            flow.set_text("reporter_name", "Warga")
            flow.set_flag("anonymous", False)  # the two privacy questions are answered, never assumed
            flow.set_flag("confidential", False)
            flow.next()
            if flow.step is not Step.REVIEW:
                raise RuntimeError(f"the benchmark's citizen stopped at {flow.step.value}: the filing path changed")
            env.prepare_receipt().result()  # as the review screen does, while the citizen reads it
            started = time.perf_counter()  # the tap on "Kirim"
            saved = flow.submit(env.reports.submit)
            env.print_async(receipt_content(saved, env, "id")).result()
            latencies.append((printer.handed_at - started) * 1000)
        return latencies
    finally:
        env.close()
