"""Printer errors, one family: the UI turns each type into a sentence for the citizen.

The message (``str(error)``) and :attr:`PrinterError.technician_hint` are short English
text for the technician's log and admin screen; they never carry complaint text.
:attr:`PrinterError.state` is the word a :class:`devices.printer.base.PrinterStatus`
(and so the heartbeat) uses for the problem.
"""
from __future__ import annotations


class PrinterError(Exception):
    """Something stopped the receipt from printing (the report is already saved)."""

    technician_hint = "check the printer"
    state = "fault"

    def __init__(self, message: str | None = None, *, hint: str | None = None):
        super().__init__(message or self.technician_hint)
        if hint:  # a transport that knows better than the class (e.g. a folder, not a cable)
            self.technician_hint = hint


class PrinterUnavailable(PrinterError):
    """The printer (or the receipts directory) cannot be reached or written."""

    technician_hint = "printer not reachable: check the cable/power, the configured connection, and permissions"
    state = "unavailable"


class PrinterOutOfPaper(PrinterError):
    """The paper roll is empty."""

    technician_hint = "printer is out of paper: load a new roll"
    state = "out_of_paper"


class PrinterCoverOpen(PrinterError):
    """The printer's cover is open."""

    technician_hint = "printer cover is open: close it"
    state = "cover_open"


class PrinterTimeout(PrinterError):
    """The printer did not accept or answer in time."""

    technician_hint = "printer did not answer in time: check the connection, then power-cycle the printer"
    state = "timeout"
