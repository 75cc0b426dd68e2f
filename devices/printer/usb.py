"""A USB printer found by vendor and product id, through pyusb (libusb), with DLE EOT status.

pyusb directly rather than python-escpos's ``Usb`` printer: importing that class loads all
of python-escpos (Pillow, python-barcode, PyYAML, its printer database: about 8 MiB) into
the kiosk's process, which never lays a receipt out itself (``kiosk.core.receipt``); and it
guessed the endpoints (0x01 out, 0x82 in, which many printers do not use), reset the
device at every opening and never released it on closing. Here the endpoints are read
from the printer's own descriptors, the kernel's ``usblp`` driver is detached when it
holds the interface, the configuration is set only when the device has none, and every
conversation ends by releasing the device.
"""
from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any, Mapping

from devices.printer.dle_eot import DleEotPrinter, Link
from devices.printer.errors import PrinterUnavailable

log = logging.getLogger(__name__)

UDEV_HINT = "Linux refuses the USB device to this user: install deploy/99-escpos-printer.rules (docs/PRINTERS.md)"
DEVICE_HINT = "it has no endpoint to answer status on: use printer = \"device\" with /dev/usb/lp0 (docs/PRINTERS.md)"


class _UsbLink(Link):
    def __init__(self, device, out_ep, in_ep, timeout_ms: int):
        self.device, self.out_ep, self.in_ep, self.timeout_ms = device, out_ep, in_ep, timeout_ms

    def send(self, data: bytes) -> None:
        import usb.core

        try:
            self.device.write(self.out_ep, data, self.timeout_ms)
        except usb.core.USBTimeoutError:
            raise TimeoutError from None

    def recv_byte(self) -> int:
        import usb.core

        try:
            answer = self.device.read(self.in_ep, self.in_ep.wMaxPacketSize, self.timeout_ms)
        except usb.core.USBTimeoutError:
            raise TimeoutError from None
        if not answer:
            raise TimeoutError
        return answer[0]

    def close(self) -> None:
        import usb.util

        usb.util.dispose_resources(self.device)  # releases the interface and closes the handle


class UsbPrinter(DleEotPrinter):
    """A USB printer (``backend``: pyusb's, found on its own unless given)."""

    def __init__(self, vendor_id: int, product_id: int, *, timeout: float = 5.0, backend=None):
        self.vendor_id, self.product_id, self.timeout, self.backend = vendor_id, product_id, timeout, backend
        self.name = f"USB printer {vendor_id:04x}:{product_id:04x}"

    @classmethod
    def from_config(cls, values: Mapping[str, Any], *, receipts_dir: Path) -> "UsbPrinter":
        return cls(int(values["printer_usb_vendor"], 16), int(values["printer_usb_product"], 16),
                   timeout=values["printer_timeout_s"])

    @property
    def target(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    def _open(self) -> Link:
        try:
            import usb.core  # pyusb (absolute import: not this module)
            import usb.util
        except ImportError as exc:
            raise PrinterUnavailable(f"USB support missing: {exc}") from None
        try:
            device = usb.core.find(idVendor=self.vendor_id, idProduct=self.product_id, backend=self.backend)
        except usb.core.NoBackendError:
            raise PrinterUnavailable("libusb is not installed (Debian package libusb-1.0-0)") from None
        if device is None:
            raise PrinterUnavailable(f"{self.name} not found (check the cable and the ids)")
        try:
            return self._link(device)
        except usb.core.USBError as exc:
            usb.util.dispose_resources(device)
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise PrinterUnavailable(f"{self.name}: {UDEV_HINT}") from None
            raise PrinterUnavailable(f"{self.name}: {exc.strerror or exc}") from None
        except PrinterUnavailable:
            usb.util.dispose_resources(device)
            raise

    def _link(self, device) -> Link:
        import usb.core
        import usb.util

        interface = device[0][(0, 0)]  # the first configuration's first interface: a printer has one
        number = interface.bInterfaceNumber
        try:
            if device.is_kernel_driver_active(number):  # usblp holds it (/dev/usb/lp0)
                device.detach_kernel_driver(number)
        except NotImplementedError:  # a backend without kernel drivers to detach
            pass
        try:
            device.get_active_configuration()
        except usb.core.USBError:  # not configured yet; setting it again would reset a configured one
            device.set_configuration()

        def bulk(direction: int):
            return usb.util.find_descriptor(
                interface, custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress) == direction
                and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK)

        out_ep, in_ep = bulk(usb.util.ENDPOINT_OUT), bulk(usb.util.ENDPOINT_IN)
        if out_ep is None:
            raise PrinterUnavailable(f"{self.name} has no bulk OUT endpoint: is it a printer?")
        if in_ep is None:
            raise PrinterUnavailable(f"{self.name}: {DEVICE_HINT}")
        return _UsbLink(device, out_ep, in_ep, max(1, int(self.timeout * 1000)))
