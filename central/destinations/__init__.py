"""Where reports go after the central (issue 15): one adapter per kind of upstream system.

The forwarding outbox (``central.forwarding``) owns the when and how often; an adapter owns
one system's wire format and what its answers mean, and nothing else: it never touches the
database, never sleeps and never retries. Adding a destination is one module here that
defines a :class:`Destination` and registers its ``type`` in :data:`TYPES`, plus one entry
in the central's forwarding file (docs/FORWARDING.md).

What an adapter answers to :meth:`Destination.send` decides what the outbox does next:

- :class:`Delivered`: the upstream system holds the report; ``upstream_id`` is its number
  (LAPOR!'s tracking number, an Open311 ``service_request_id``), kept and shown.
- :class:`TryLater`: the system said it did not take the report (refused connection, 5xx,
  429, a captive portal's page): sent again after a backoff, or after ``retry_after``.
- :class:`Refused`: the system refused this report for good (4xx that a resend would
  repeat): the entry fails with the reason and waits for an admin.
- :class:`Unknown`: the request left and its answer was lost (a timeout after sending, a
  reset connection, an answer we cannot read): the system may hold the report. An
  adapter whose :attr:`Destination.idempotent` is true sends again (the system knows our
  ID); any other makes the entry "unconfirmed", reconciled by :meth:`Destination.look_up`
  where the system allows it, or by an admin who confirms or resends.

Adapters never write a report's text or the reporter's identity to a log, and never send
the identity of an anonymous report.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Protocol, Union


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """A report as a destination needs it: its body as received (identity included: the
    adapter leaves it out where the report is anonymous) and the central's current view."""

    tracking_id: str
    body: Mapping  # the report's canonical body (central.service.add_report)
    kind: str
    category_code: str
    agency_code: str | None  # where it is now
    kecamatan_code: str | None
    confidential: bool
    anonymous: bool
    channel: str
    received_at: dt.datetime
    #: The report's public id (``reports.open311_id``: random, never the Tracking ID, which
    #: is the receipt holder's secret and never published: docs/TRACKING_ID.md). What an
    #: adapter may write where the upstream system publishes it, and search for in
    #: :meth:`Destination.look_up`. Empty when the caller has none.
    public_id: str = ""


@dataclasses.dataclass(frozen=True)
class Delivered:
    upstream_id: str
    #: What else the system answered that must be kept (LAPOR!'s ``transaksiid``): strings only.
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class TryLater:
    reason: str
    retry_after: float | None = None  # seconds, from the system's Retry-After


@dataclasses.dataclass(frozen=True)
class Refused:
    reason: str


@dataclasses.dataclass(frozen=True)
class Unknown:
    reason: str


Outcome = Union[Delivered, TryLater, Refused, Unknown]


@dataclasses.dataclass(frozen=True)
class UpstreamEvent:
    """A step the upstream system reports for a report: it enters the report's timeline as
    an event from that system (``actor``: the destination's name), once per ``event_id``."""

    event_id: str  # the system's own id of the step, or a digest of it: never recorded twice
    at: dt.datetime  # aware
    status: str | None  # one of our statuses when the step maps to one, else None (a note only)
    public_reply: str | None  # words the citizen may read (never for a confidential report)
    note: str = ""  # for officers only


class LookUpUnsupported(Exception):
    """The system cannot find a report by our Tracking ID: an admin reconciles."""


class Destination(Protocol):
    #: The entry's name in the forwarding file (``lapor``, ``kota-open311``): shown to officers.
    name: str
    #: True when a resend of the same report is safe (the system recognises our ID).
    idempotent: bool

    def send(self, report: Outgoing) -> Outcome:
        """One attempt to hand the report over; never raises for what the network or the
        system does (those are outcomes)."""

    def look_up(self, report: Outgoing) -> Delivered | None:
        """After :class:`Unknown`: the system's record of this report, None when it has
        none; raises :class:`LookUpUnsupported` when it cannot tell, :class:`OSError` (or
        ``requests.RequestException``) when it could not be asked now."""

    def updates(self, upstream_id: str, since: dt.datetime | None) -> list[UpstreamEvent]:
        """The steps taken upstream since ``since`` (all when None), oldest first; [] when
        the system gives none. Raises like :meth:`look_up` when it could not be asked."""


#: ``type`` in the forwarding file -> factory(name, settings mapping) -> Destination.
#: Filled by the adapters' modules (``central.destinations.lapor``, ``.open311_client``).
TYPES: dict[str, object] = {}
