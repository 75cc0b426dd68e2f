"""Reference data (categories, agencies, kecamatan, the agencies that usually handle
each category, and the kabupaten's own calendar days): seeded from ``assets/``,
replaceable later by the central system, read as plain values (no ORM objects leave this
module)."""
from __future__ import annotations

import dataclasses
import json
import logging
from importlib.resources.abc import Traversable

from sqlalchemy import delete, func, select

import assets
from kiosk.core.store.db import Store
from kiosk.core.store.models import Agency, CalendarDay, Category, CategoryAgency, Kecamatan, Meta
from kiosk.kernel.i18n import N_, gettext_for
from kiosk.kernel.wire import KECAMATAN_OUTSIDE, KECAMATAN_UNKNOWN
from kiosk.kernel.workdays import NATIONAL, CalendarFileError, WorkCalendar, CalendarDay as Day

log = logging.getLogger(__name__)

SEED_FILE = assets.seed_file()


@dataclasses.dataclass(frozen=True)
class Choice:
    code: str
    label: str
    #: For an agency offered for a category: it usually handles that category.
    usual: bool = False


#: ``meta`` keys: the version of the reference data held, and where it came from
#: (:data:`FROM_SEED` or :data:`FROM_CENTRAL`; the seed never replaces the central's data).
VERSION_KEY, SOURCE_KEY = "reference_version", "reference_source"
FROM_SEED, FROM_CENTRAL = "seed", "central"


#: Kecamatan answers beside the reference list (``kiosk.kernel.wire``): the central takes
#: any code; :func:`kiosk.core.reports` accepts these as it does listed ones.
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
    agencies = {item["code"] for item in data["agencies"]}
    for i, item in enumerate(data["categories"]):  # optional: older reference data has none
        usual = item.get("usual_agencies", [])
        if not isinstance(usual, list) or not all(isinstance(code, str) for code in usual):
            raise ReferenceDataError(f"categories[{i}].usual_agencies: expected a list of agency codes")
        for code in usual:
            if code not in agencies:
                raise ReferenceDataError(f"categories[{i}].usual_agencies: unknown agency {code!r}")
        if len(set(usual)) != len(usual):
            raise ReferenceDataError(f"categories[{i}].usual_agencies: an agency appears twice")
    _calendar_days(data)


def _calendar_days(data: dict) -> list[Day]:
    """The kabupaten's days in ``calendar_days`` (optional: older reference data has none)."""
    items = data.get("calendar_days", [])
    if not isinstance(items, list):
        raise ReferenceDataError("calendar_days: expected a list")
    days = []
    for i, item in enumerate(items):
        try:
            days.append(Day.from_wire(item))
        except CalendarFileError as exc:
            raise ReferenceDataError(f"calendar_days[{i}]: {exc}") from None
    if len({day.day for day in days}) != len(days):
        raise ReferenceDataError("calendar_days: a date appears twice")
    return days


def replace_reference_data(store: Store, data: dict, *, source: str = FROM_CENTRAL) -> None:
    """Replace all reference tables at once (all or nothing); ``source`` says where the
    data came from (the central's, unless the seed)."""
    _validate(data)
    with store.session() as session, session.begin():
        for model in (CategoryAgency, Category, Agency, Kecamatan, CalendarDay):
            session.execute(delete(model))
        for day in _calendar_days(data):
            session.add(CalendarDay(day=day.day, working=day.working, name=day.name))
        for sort, item in enumerate(data["categories"]):
            session.add(Category(code=item["code"], name_id=item["name_id"], name_en=item["name_en"], sort=sort))
            for rank, agency in enumerate(item.get("usual_agencies", [])):
                session.add(CategoryAgency(category_code=item["code"], agency_code=agency, sort=rank))
        for sort, item in enumerate(data["agencies"]):
            session.add(Agency(code=item["code"], name_id=item["name_id"], name_en=item["name_en"], sort=sort))
        for sort, item in enumerate(data["kecamatan"]):
            session.add(Kecamatan(code=item["code"], name=item["name"], sort=sort))
        session.merge(Meta(key=VERSION_KEY, value=data["version"]))
        session.merge(Meta(key=SOURCE_KEY, value=source))
    log.info("reference data replaced (version %s, from the %s)", data["version"], source)


def load_seed_if_empty(store: Store, seed_file: Traversable = SEED_FILE) -> bool:
    """Load the seed file when the kiosk has no reference data yet, or holds an earlier
    version of the seed itself (a kiosk updated before its central sent anything); never
    over the central's data. True if loaded."""
    with store.session() as session:
        held = session.scalar(select(func.count()).select_from(Category))
        source = session.scalar(select(Meta.value).where(Meta.key == SOURCE_KEY))
    if held and source != FROM_SEED:
        return False
    seed = json.loads(seed_file.read_text(encoding="utf-8"))
    if held and seed.get("version") == version(store):
        return False
    replace_reference_data(store, seed, source=FROM_SEED)
    return True


def version(store: Store) -> str | None:
    with store.session() as session:
        return session.scalar(select(Meta.value).where(Meta.key == VERSION_KEY))


def work_calendar(store: Store) -> WorkCalendar:
    """The working days the kiosk's expected dates count: Indonesia's, with the kabupaten's
    own days from the central's reference data (none until the central sent them)."""
    with store.session() as session:
        rows = session.execute(select(CalendarDay.day, CalendarDay.working, CalendarDay.name)).all()
    return WorkCalendar.from_days(Day(*row) for row in rows) if rows else NATIONAL


def categories(store: Store, language: str) -> list[Choice]:
    column = Category.name_id if language == "id" else Category.name_en
    with store.session() as session:
        return [Choice(code, label) for code, label in session.execute(select(Category.code, column).order_by(Category.sort))]


def agencies(store: Store, language: str) -> list[Choice]:
    column = Agency.name_id if language == "id" else Agency.name_en
    with store.session() as session:
        return [Choice(code, label) for code, label in session.execute(select(Agency.code, column).order_by(Agency.sort))]


def agency_choices(store: Store, language: str, category_code: str | None) -> list[Choice]:
    """The agencies the agency step offers for ``category_code``: those that usually
    handle it first (``usual`` set, in the reference data's order for that category),
    then every other agency in its own order. "I don't know" is the screen's, not here."""
    with store.session() as session:
        usual = list(session.scalars(select(CategoryAgency.agency_code)
                                     .where(CategoryAgency.category_code == category_code)
                                     .order_by(CategoryAgency.sort)))
    every = agencies(store, language)
    by_code = {choice.code: choice for choice in every}
    first = [dataclasses.replace(by_code[code], usual=True) for code in usual if code in by_code]
    return first + [choice for choice in every if choice.code not in usual]


def kecamatan(store: Store) -> list[Choice]:
    with store.session() as session:
        return [Choice(code, name) for code, name in session.execute(select(Kecamatan.code, Kecamatan.name).order_by(Kecamatan.sort))]


def kecamatan_choices(store: Store, language: str) -> list[Choice]:
    """What the citizen chooses from: the kecamatan, then "Don't know" and "Outside"."""
    _ = gettext_for(language)
    return kecamatan(store) + [Choice(code, _(msgid)) for code, msgid in RESERVED_KECAMATAN.items()]
