"""A USB receipt printer behind pyusb's backend interface (``usb.backend.IBackend``), for
tests: pyusb's own code finds it, reads its descriptors, claims its interface and moves
bulk transfers, as it does through libusb with a real printer.

Like a POS-58 on Linux: one configuration, one printer-class interface with a bulk OUT
and a bulk IN endpoint (0x03 and 0x81 by default, not python-escpos's guess of 0x01 and
0x82), the kernel's ``usblp`` driver bound to it until detached (claiming it before then
fails with EBUSY, as libusb does). It records every byte, answers DLE EOT by its
``state`` (``online``, ``paper_out``, ``cover_open``), and fails as the real one does:
``denied`` (no udev rule: EACCES on opening), ``hang`` (reads time out), ``unplugged``
(ENODEV on every transfer). ``open_handles`` counts handles never closed.
"""
from __future__ import annotations

import array
import errno
import types

import usb.backend
import usb.core

from tests.support.printer_sims import DLE_EOT, dle_eot_answer

USB_CLASS_PRINTER = 7


def _descriptor(**fields) -> types.SimpleNamespace:
    return types.SimpleNamespace(extra_descriptors=[], **fields)


class UsbPrinterBackend(usb.backend.IBackend):
    def __init__(self, vendor: int = 0x0416, product: int = 0x5011, *, out_ep: int = 0x03, in_ep: int | None = 0x81,
                 state: str = "online", denied: bool = False, hang: bool = False, usblp_bound: bool = True,
                 configured: bool = True):
        self.vendor, self.product, self.out_ep, self.in_ep = vendor, product, out_ep, in_ep
        self.state, self.denied, self.hang, self.unplugged = state, denied, hang, False
        self.usblp_bound, self.configuration = usblp_bound, (1 if configured else 0)
        self.received = bytearray()
        self.answers = bytearray()
        self.open_handles = 0
        self.set_configuration_calls = 0
        self.claimed = False

    # -- what pyusb reads ------------------------------------------------------------------
    def enumerate_devices(self):
        yield "usb-printer"

    def get_device_descriptor(self, dev):
        return _descriptor(bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
                           bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=self.vendor, idProduct=self.product,
                           bcdDevice=0x0100, iManufacturer=0, iProduct=0, iSerialNumber=0, bNumConfigurations=1,
                           address=5, bus=1, port_number=2, port_numbers=(2,), speed=2)

    def get_configuration_descriptor(self, dev, config):
        return _descriptor(bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1, bConfigurationValue=1,
                           iConfiguration=0, bmAttributes=0xC0, bMaxPower=50)

    def get_interface_descriptor(self, dev, intf, alt, config):
        return _descriptor(bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0,
                           bNumEndpoints=len(self._endpoints()), bInterfaceClass=USB_CLASS_PRINTER,
                           bInterfaceSubClass=1, bInterfaceProtocol=2 if self.in_ep is not None else 1, iInterface=0)

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        return _descriptor(bLength=7, bDescriptorType=5, bEndpointAddress=self._endpoints()[ep], bmAttributes=0x02,
                           wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0)

    def _endpoints(self) -> list[int]:
        return [self.out_ep] + ([self.in_ep] if self.in_ep is not None else [])

    # -- a handle and its interface -------------------------------------------------------
    def open_device(self, dev):
        if self.denied:
            raise usb.core.USBError("Access denied (insufficient permissions)", -3, errno.EACCES)
        self.open_handles += 1
        return "handle"

    def close_device(self, dev_handle):
        self.open_handles -= 1

    def get_configuration(self, dev_handle):
        return self.configuration

    def set_configuration(self, dev_handle, config_value):
        self._present()
        if self.usblp_bound:
            raise usb.core.USBError("Resource busy", -6, errno.EBUSY)
        self.set_configuration_calls += 1
        self.configuration = config_value

    def is_kernel_driver_active(self, dev_handle, intf):
        return self.usblp_bound

    def detach_kernel_driver(self, dev_handle, intf):
        self.usblp_bound = False

    def claim_interface(self, dev_handle, intf):
        self._present()
        if self.usblp_bound:
            raise usb.core.USBError("Resource busy", -6, errno.EBUSY)
        self.claimed = True

    def release_interface(self, dev_handle, intf):
        self.claimed = False

    # -- transfers -------------------------------------------------------------------------
    def bulk_write(self, dev_handle, ep, intf, data, timeout):
        self._present()
        assert ep == self.out_ep and self.claimed, (ep, self.claimed)
        chunk = bytes(data)
        self.received += chunk
        if len(chunk) >= 3 and chunk[-3:-1] == DLE_EOT and not self.hang:
            self.answers.append(dle_eot_answer(self.state, chunk[-1]))
        return len(chunk)

    def bulk_read(self, dev_handle, ep, intf, buff, timeout):
        self._present()
        assert ep == self.in_ep and self.claimed, (ep, self.claimed)
        if not self.answers:
            raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
        count = min(len(buff), len(self.answers))
        buff[:count] = array.array("B", self.answers[:count])
        del self.answers[:count]
        return count

    def _present(self) -> None:
        if self.unplugged:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)
