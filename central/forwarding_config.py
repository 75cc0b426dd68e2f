"""The central's forwarding file (docs/FORWARDING.md): which upstream systems exist and which
reports go to each.

    [destinations.lapor]              # a name of your choice: shown to officers
    type = "lapor"                    # an adapter of central/destinations/ (TYPES)
    url = "https://..."               # ... and that type's own settings
    token_file = "/etc/lapor-central/lapor.token"

    [[routes]]
    destination = "lapor"
    categories = ["KESEHATAN"]        # left out: every category
    agencies = ["DINKES"]             # left out: every agency (or none)

A route matches a report when its category is in ``categories`` AND its agency at intake
is in ``agencies`` (a list left out matches anything); a report goes once to every
destination one of whose routes matches it. The file is read and checked once, at start:
a wrong one stops the process with the file, the key and what is wrong. Without a file
nothing is forwarded.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import tomllib
from collections.abc import Mapping
from pathlib import Path

from central import destinations
from central.destinations import Destination


class ForwardingFileError(ValueError):
    """The forwarding file cannot be used: the message names the file, the key and why."""


@dataclasses.dataclass(frozen=True)
class Route:
    destination: str
    categories: frozenset[str] | None  # None: every category
    agencies: frozenset[str] | None  # None: every agency, and none

    def matches(self, category_code: str, agency_code: str | None) -> bool:
        return (self.categories is None or category_code in self.categories) and \
            (self.agencies is None or agency_code in self.agencies)


@dataclasses.dataclass(frozen=True)
class ForwardingConfig:
    path: str
    destinations: Mapping[str, Destination]
    kinds: Mapping[str, str]  # destination name -> its type
    routes: tuple[Route, ...]

    def route(self, category_code: str, agency_code: str | None) -> list[tuple[str, str]]:
        """(name, type) of every destination a report of this category and agency goes to,
        each once, in the file's order of routes."""
        names: list[str] = []
        for route in self.routes:
            if route.destination not in names and route.matches(category_code, agency_code):
                names.append(route.destination)
        return [(name, self.kinds[name]) for name in names]


def adapter_types() -> tuple[dict[str, object], list[str]]:
    """Every adapter's factory by type: each module of ``central.destinations`` registers
    its own in ``TYPES`` when imported, so adding a destination is one file. Also the
    modules that failed to import (named when a file asks for a type they did not give)."""
    broken = []
    for module in pkgutil.iter_modules(destinations.__path__):
        try:
            importlib.import_module(f"{destinations.__name__}.{module.name}")
        except Exception as exc:  # one broken adapter must not hide the others
            broken.append(f"central.destinations.{module.name} ({type(exc).__name__}: {exc})")
    return dict(destinations.TYPES), broken


def _codes(path: str, where: str, value: object, key: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ForwardingFileError(f"{path}: {where}: {key} must be a list of codes, like [\"KESEHATAN\"]")
    if not value:
        raise ForwardingFileError(f"{path}: {where}: {key} is empty, so the route matches no report; "
                                  f"leave {key} out to mean every one")
    return frozenset(v.strip().upper() for v in value)


def load(path: str | Path) -> ForwardingConfig:
    """Read and check the file, and build each destination's adapter (which reads its token
    file): ForwardingFileError with the file, the key and the problem."""
    path = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ForwardingFileError(f"{path}: cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ForwardingFileError(f"{path}: not a TOML file: {exc}") from None
    unknown = set(data) - {"destinations", "routes"}
    if unknown:
        raise ForwardingFileError(f"{path}: unknown key {sorted(unknown)[0]!r}: the file has [destinations.NAME] "
                                  "tables and [[routes]] entries only")
    tables = data.get("destinations", {})
    if not isinstance(tables, dict) or not tables:
        raise ForwardingFileError(f"{path}: no [destinations.NAME] table: name at least one system to forward to")
    types, broken = adapter_types()
    built: dict[str, Destination] = {}
    kinds: dict[str, str] = {}
    for name, settings in tables.items():
        where = f"[destinations.{name}]"
        if not isinstance(settings, dict):
            raise ForwardingFileError(f"{path}: {where} must be a table")
        if not name or len(name) > 64 or not all(c.isalnum() or c in "-_" for c in name):
            raise ForwardingFileError(f"{path}: {where}: a destination's name is letters, digits, - and _ "
                                      "(at most 64)")
        kind = settings.get("type")
        if kind not in types:
            raise ForwardingFileError(f"{path}: {where}: type must be one of {', '.join(sorted(types))}, "
                                      f"got {kind!r}" + (f"; not loaded: {'; '.join(broken)}" if broken else ""))
        rest = {k: v for k, v in settings.items() if k != "type"}
        try:
            built[name] = types[kind](name, rest)
        except (ValueError, OSError, TypeError) as exc:
            raise ForwardingFileError(f"{path}: {where}: {exc}") from None
        kinds[name] = kind
    routes = data.get("routes", [])
    if not isinstance(routes, list):
        raise ForwardingFileError(f"{path}: routes must be [[routes]] entries")
    if not routes:
        raise ForwardingFileError(f"{path}: no [[routes]] entry: no report would be forwarded anywhere "
                                  "(a route with only destination = \"NAME\" sends every report there)")
    parsed = []
    for n, route in enumerate(routes, 1):
        where = f"[[routes]] entry {n}"
        if not isinstance(route, dict):
            raise ForwardingFileError(f"{path}: {where} must be a table")
        extra = set(route) - {"destination", "categories", "agencies"}
        if extra:
            raise ForwardingFileError(f"{path}: {where}: unknown key {sorted(extra)[0]!r} (destination, categories, "
                                      "agencies)")
        if route.get("destination") not in built:
            raise ForwardingFileError(f"{path}: {where}: destination must name one of [destinations.*] "
                                      f"({', '.join(built)}), got {route.get('destination')!r}")
        parsed.append(Route(route["destination"], _codes(path, where, route.get("categories"), "categories"),
                            _codes(path, where, route.get("agencies"), "agencies")))
    return ForwardingConfig(path, built, kinds, tuple(parsed))


def unknown_codes(config: ForwardingConfig, categories: set[str], agencies: set[str]) -> list[str]:
    """The routes' codes the reference data does not know (a typo routes nothing): warnings."""
    out = []
    for route in config.routes:
        out += [f"category {c} (route to {route.destination})" for c in sorted((route.categories or set()) - categories)]
        out += [f"agency {a} (route to {route.destination})" for a in sorted((route.agencies or set()) - agencies)]
    return out
