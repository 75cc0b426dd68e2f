"""Printer errors, one family: the UI turns each into a sentence for the citizen."""
from __future__ import annotations


class PrinterError(Exception):
    """Something stopped the receipt from printing (the report is already saved)."""

    technician_hint = "check the printer"


class PrinterUnavailable(PrinterError):
    technician_hint = "printer not reachable: check the cable/power, the configured connection, and permissions"


class PrinterOutOfPaper(PrinterError):
    technician_hint = "printer is out of paper: load a new roll"


class PrinterCoverOpen(PrinterError):
    technician_hint = "printer cover is open: close it"


class PrinterTimeout(PrinterError):
    technician_hint = "printer did not answer in time: check the connection, then power-cycle the printer"
