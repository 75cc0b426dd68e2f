"""Reference data (categories, agencies, kecamatan): seeded from ``assets/``, replaceable
later by the central system, read as plain values (no ORM objects leave this module)."""
from __future__ import annotations

import dataclasses
import json
import logging
from importlib.resources.abc import Traversable

from sqlalchemy import delete, func, select

import assets
from kiosk.core.store.db import Store
from kiosk.core.store.models import Agency, Category, Kecamatan, Meta
from kiosk.kernel.i18n import N_, gettext_for

log = logging.getLogger(__name__)

SEED_FILE = assets.seed_file()


@dataclasses.dataclass(frozen=True)
class Choice:
    code: str
    label: str


#: Kecamatan answers beside the reference list, for a citizen who does not know where, or
#: whose matter lies outside the kabupaten (No Wrong Door: the officer sorts it out). The
#: central takes any code; :func:`kiosk.core.reports` accepts these as it does listed ones.
KECAMATAN_UNKNOWN = "TIDAK_TAHU"
KECAMATAN_OUTSIDE = "LUAR_KABUPATEN"
RESERVED_KECAMATAN: dict[str, str] = {KECAMATAN_UNKNOWN: N_("Don't know"), KECAMATAN_OUTSIDE: N_("Outside Barito Utara")}


class ReferenceDataError(ValueError):
    """Reference data is malformed; nothing was changed."""


def _validate(data: dict) -> None:
    for key, fields in (("categories", ("code", "name_id", "name_en")), ("agencies", ("code", "name_id", "name_en")),
                        ("kecamatan", ("code", "name"))):
        items = data.get(key)
        if not isinstance(items, list) or not items:
            raise ReferenceDataError(f"{key}: expected a non-empty list")
        codes = set()
        for i, item in enumerate(items):
            for field in fields:
                if not isinstance(item.get(field), str) or not item[field].strip():
                    raise ReferenceDataError(f"{key}[{i}].{field}: expected text")
            if item["code"] in codes:
                raise ReferenceDataError(f"{key}[{i}].code: {item['code']!r} appears twice")
            codes.add(item["code"])
    if not isinstance(data.get("version"), str):
        raise ReferenceDataError("version: expected text")


def replace_reference_data(store: Store, data: dict) -> None:
    """Replace all reference tables at once (all or nothing)."""
    _validate(data)
    with store.session() as session, session.begin():
        for model in (Category, Agency, Kecamatan):
            session.execute(delete(model))
        for sort, item in enumerate(data["categories"]):
            session.add(Category(code=item["code"], name_id=item["name_id"], name_en=item["name_en"], sort=sort))
        for sort, item in enumerate(data["agencies"]):
            session.add(Agency(code=item["code"], name_id=item["name_id"], name_en=item["name_en"], sort=sort))
        for sort, item in enumerate(data["kecamatan"]):
            session.add(Kecamatan(code=item["code"], name=item["name"], sort=sort))
        session.merge(Meta(key="reference_version", value=data["version"]))
    log.info("reference data replaced (version %s)", data["version"])


def load_seed_if_empty(store: Store, seed_file: Traversable = SEED_FILE) -> bool:
    """Load the seed file when the kiosk has no reference data yet; True if loaded."""
    with store.session() as session:
        if session.scalar(select(func.count()).select_from(Category)):
            return False
    replace_reference_data(store, json.loads(seed_file.read_text(encoding="utf-8")))
    return True


def version(store: Store) -> str | None:
    with store.session() as session:
        return session.scalar(select(Meta.value).where(Meta.key == "reference_version"))


def categories(store: Store, language: str) -> list[Choice]:
    column = Category.name_id if language == "id" else Category.name_en
    with store.session() as session:
        return [Choice(code, label) for code, label in session.execute(select(Category.code, column).order_by(Category.sort))]


def agencies(store: Store, language: str) -> list[Choice]:
    column = Agency.name_id if language == "id" else Agency.name_en
    with store.session() as session:
        return [Choice(code, label) for code, label in session.execute(select(Agency.code, column).order_by(Agency.sort))]


def kecamatan(store: Store) -> list[Choice]:
    with store.session() as session:
        return [Choice(code, name) for code, name in session.execute(select(Kecamatan.code, Kecamatan.name).order_by(Kecamatan.sort))]


def kecamatan_choices(store: Store, language: str) -> list[Choice]:
    """What the citizen chooses from: the kecamatan, then "Don't know" and "Outside"."""
    _ = gettext_for(language)
    return kecamatan(store) + [Choice(code, _(msgid)) for code, msgid in RESERVED_KECAMATAN.items()]
