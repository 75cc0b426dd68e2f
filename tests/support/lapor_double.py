"""A test double of SP4N LAPOR!'s integration API, as docs/LAPOR.md describes it (the known
submission format and the endpoints we assume): a real HTTP server on 127.0.0.1 that
stores the reports it is sent, answers with a 7-digit ``trackingid`` and a
``transaksiid``, finds a report by the reference in its ``isi`` (the assumed look-up),
gives the follow-up steps an officer made (the assumed status endpoint), and injects
faults with a seeded RNG:

- ``fail_500``: answers 500 without storing;
- ``timeout``: holds the connection past the client's timeout (``hold_s``), having stored
  the report or not (``store_on_timeout``), then closes it without an answer;
- ``lose``: stores the report, then closes the connection without answering.

``inject(*faults)`` decides the next submissions instead of the RNG, one fault each:
``"500"``, ``"timeout"`` (not stored), ``"timeout_stored"``, ``"lose"``, ``"refuse"`` (400
with a code), ``"busy:<seconds>"`` (503 + Retry-After). Everything it stored is kept as received (the XML
bytes), counted per our Tracking ID (the ``trackingidkios`` element)."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import random
import re
import socket
import threading
import xml.etree.ElementTree as ET
from typing import Iterator

from tests.support.http_double import reply, serving

TOKEN = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
SUBMIT, LOOKUP, UPDATES = "/api/stream/addstream", "/api/stream/cari", "/api/stream/tindaklanjut"
_REFERENCE = re.compile(r"Ref\. kios: (\w+)")


@dataclasses.dataclass
class Stored:
    trackingid: str
    transaksiid: str
    xml: bytes
    our_id: str  # trackingidkios
    reference: str  # from isi
    at: dt.datetime
    fault: str  # "" (answered), "timeout" or "lose" (no answer came back)
    steps: list[dict] = dataclasses.field(default_factory=list)

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.xml)


class LaporDouble:
    def __init__(self, *, token: str = TOKEN, fail_500: float = 0.0, timeout: float = 0.0, lose: float = 0.0,
                 store_on_timeout: float = 0.5, hold_s: float = 2.0, seed: int = 15, lookup: bool = True,
                 updates: bool = True):
        self.token, self.fail_500, self.timeout, self.lose = token, fail_500, timeout, lose
        self.store_on_timeout, self.hold_s = store_on_timeout, hold_s
        self.lookup, self.updates = lookup, updates
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stored: list[Stored] = []
        self.requests: dict[str, int] = {"submit": 0, "lookup": 0, "updates": 0}
        self.faults: dict[str, int] = {"500": 0, "timeout": 0, "timeout_stored": 0, "lose": 0, "refused": 0, "busy": 0}
        self._next: list[str] = []
        self._release = threading.Event()
        self._numbers: set[str] = set()
        self.url = ""

    # -- what the tests set up and read ----------------------------------------------------
    def inject(self, *faults: str) -> None:
        with self.lock:
            self._next += faults

    def for_our_id(self, tracking_id: str) -> list[Stored]:
        with self.lock:
            return [s for s in self.stored if s.our_id == tracking_id]

    def counts(self) -> dict[str, int]:
        """How many times each of our Tracking IDs was stored."""
        with self.lock:
            out: dict[str, int] = {}
            for s in self.stored:
                out[s.our_id] = out.get(s.our_id, 0) + 1
            return out

    def answer(self, trackingid: str, status: str, isi: str | None = None, catatan: str = "") -> str:
        """An officer's follow-up step in LAPOR! (what ``updates`` gives back); its id."""
        with self.lock:
            report = next(s for s in self.stored if s.trackingid == trackingid)
            step_id = f"TL{len(report.steps) + 1}-{trackingid}"
            report.steps.append({"id": step_id, "waktu": dt.datetime.now(dt.timezone.utc).isoformat(),
                                 "status": status, "isi": isi, "catatan": catatan})
            return step_id

    # -- the server --------------------------------------------------------------------------
    @contextlib.contextmanager
    def running(self) -> Iterator["LaporDouble"]:
        with serving("lapor-double", on_post=self.handle) as url:
            self.url = url
            try:
                yield self
            finally:
                self._release.set()  # a held request ends before the server stops

    @staticmethod
    def _send(handler, status: int, xml: str, headers: dict[str, str] | None = None) -> None:
        data = ('<?xml version="1.0" encoding="UTF-8"?>' + xml).encode("utf-8")
        reply(handler, status, data, "text/xml; charset=utf-8", headers)

    @staticmethod
    def _drop(handler) -> None:
        """Close the connection without a byte of answer."""
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    def handle(self, handler, body: bytes) -> None:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return self._send(handler, 400, "<lapor><kode>xml_tidak_valid</kode></lapor>")
        if root.tag != "lapor" or root.get("token") != self.token:
            return self._send(handler, 401, "<lapor><kode>token_salah</kode></lapor>")
        path = handler.path
        if path == SUBMIT:
            return self._submit(handler, body, root)
        if path == LOOKUP:
            with self.lock:
                self.requests["lookup"] += 1
            if not self.lookup:
                return self._send(handler, 404, "<lapor/>")
            return self._look_up(handler, root)
        if path == UPDATES:
            with self.lock:
                self.requests["updates"] += 1
            if not self.updates:
                return self._send(handler, 404, "<lapor/>")
            return self._steps(handler, root)
        return self._send(handler, 404, "<lapor/>")

    def _store(self, body: bytes, root: ET.Element, fault: str) -> Stored:
        laporan = root.find("laporan")
        isi = laporan.findtext("isi") or ""
        found = _REFERENCE.search(isi)
        with self.lock:
            while True:
                number = str(self.rng.randrange(1_000_000, 10_000_000))
                if number not in self._numbers:
                    break
            self._numbers.add(number)
            stored = Stored(number, f"TRX{len(self.stored) + 1:08d}", body, laporan.findtext("trackingidkios") or "",
                            found.group(1) if found else "", dt.datetime.now(dt.timezone.utc), fault)
            self.stored.append(stored)
        return stored

    def _submit(self, handler, body: bytes, root: ET.Element) -> None:
        with self.lock:
            self.requests["submit"] += 1
            draw, stores_anyway = self.rng.random(), self.rng.random() < self.store_on_timeout
            fault = self._next.pop(0) if self._next else None
        if fault is None:
            fault = ("500" if draw < self.fail_500 else
                     ("timeout_stored" if stores_anyway else "timeout") if draw < self.fail_500 + self.timeout else
                     "lose" if draw < self.fail_500 + self.timeout + self.lose else "")
        if fault == "refuse":
            self._count("refused")
            return self._send(handler, 400, "<lapor><kode>kategori_tidak_dikenal</kode></lapor>")
        if fault.startswith("busy:"):
            self._count("busy")
            return self._send(handler, 503, "<lapor/>", {"Retry-After": fault.split(":", 1)[1]})
        if root.find("laporan") is None or not (root.find("laporan").findtext("isi") or "").strip():
            return self._send(handler, 400, "<lapor><kode>isi_kosong</kode></lapor>")
        if fault == "500":
            self._count("500")
            return self._send(handler, 500, "<lapor><kode>galat</kode></lapor>")
        if fault in ("timeout", "timeout_stored"):
            if fault == "timeout_stored":
                self._store(body, root, "timeout")
            self._count(fault)
            self._release.wait(self.hold_s)  # past the client's timeout
            return self._drop(handler)
        if fault == "lose":
            self._store(body, root, "lose")
            self._count("lose")
            return self._drop(handler)
        stored = self._store(body, root, "")
        self._send(handler, 200, f"<lapor><status>sukses</status><trackingid>{stored.trackingid}</trackingid>"
                                 f"<transaksiid>{stored.transaksiid}</transaksiid></lapor>")

    def _count(self, fault: str) -> None:
        with self.lock:
            self.faults[fault] += 1

    def _look_up(self, handler, root: ET.Element) -> None:
        wanted = root.findtext("cari/referensi") or ""
        with self.lock:
            found = [s for s in self.stored if wanted and s.reference == wanted]
        items = "".join(f"<laporan><trackingid>{s.trackingid}</trackingid><transaksiid>{s.transaksiid}</transaksiid>"
                        "</laporan>" for s in found)
        self._send(handler, 200, f"<lapor>{items}</lapor>")

    def _steps(self, handler, root: ET.Element) -> None:
        from xml.sax.saxutils import escape, quoteattr

        number = root.findtext("trackingid") or ""
        with self.lock:
            report = next((s for s in self.stored if s.trackingid == number), None)
            steps = list(report.steps) if report else []
        if report is None:
            return self._send(handler, 404, "<lapor><kode>tidak_ditemukan</kode></lapor>")
        since = root.findtext("sejak")
        if since:
            steps = [s for s in steps if dt.datetime.fromisoformat(s["waktu"]) >= dt.datetime.fromisoformat(since)]
        items = "".join(
            f'<tindaklanjut id={quoteattr(s["id"])} waktu={quoteattr(s["waktu"])} status={quoteattr(s["status"])}>'
            + (f"<isi>{escape(s['isi'])}</isi>" if s["isi"] else "")
            + (f"<catatan>{escape(s['catatan'])}</catatan>" if s["catatan"] else "") + "</tindaklanjut>"
            for s in steps)
        self._send(handler, 200, f"<lapor>{items}</lapor>")


def forwarding_file(folder, double: LaporDouble, *, name: str = "lapor", routes: str | None = None,
                    timeout_s: float = 2.0, connect_timeout_s: float = 1.0, lookup: bool = True,
                    extra: str = "") -> str:
    """A forwarding file for ``double`` in ``folder`` (the token in a file beside it);
    ``routes``: the [[routes]] entries (default: every report to it). Returns its path."""
    from pathlib import Path

    folder = Path(folder)
    token = folder / f"{name}.token"
    token.write_text(double.token + "\n", encoding="utf-8")
    path = folder / "forwarding.toml"
    path.write_text(
        f'[destinations.{name}]\ntype = "lapor"\nurl = "{double.url}"\ntoken_file = "{token}"\n'
        f"timeout_s = {timeout_s}\nconnect_timeout_s = {connect_timeout_s}\nlookup = {'true' if lookup else 'false'}\n{extra}\n"
        + (routes if routes is not None else f'[[routes]]\ndestination = "{name}"\n'), encoding="utf-8")
    return str(path)
