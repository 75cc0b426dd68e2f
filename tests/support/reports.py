"""Reports filed straight through the kiosk's ReportService (no screen), and a store at an
older schema, for sync and upgrade tests."""
from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from kiosk.core.domain import Draft, ReportKind
from kiosk.core.reports import ReportService

T = TypeVar("T")


def file_reports(store, clock, count: int, **changes) -> list[str]:
    service = ReportService(store, kiosk_code="MT01", clock=clock.now)
    ids = []
    for i in range(count):
        values = dict(kind=ReportKind.PENGADUAN, category_code="KESEHATAN", title=f"Antrean {i}",
                      description="Antrean di puskesmas sangat panjang.", incident_date=dt.date(2026, 11, 20),
                      kecamatan_code="LAHEI", reporter_name="Siti Aminah", reporter_phone="0812345678")
        values.update(changes)
        ids.append(service.submit(Draft(**values)).tracking_id)
    return ids


def store_at_revision(db_file, key_file, revision: str):
    """A kiosk store migrated only up to ``revision`` (what an older kiosk left on disk),
    seeded with reference data: for tests that open it with the new code afterwards."""
    from alembic import command

    from kiosk.core import reference
    from kiosk.core.store.crypto import load_or_create_key
    from kiosk.core.store.db import Store, _alembic_config, _make_engine

    engine = _make_engine(db_file)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    store = Store(engine, load_or_create_key(key_file), db_file)
    if revision < "0004":
        seed_as_before_0004(store)
    else:
        reference.load_seed_if_empty(store)
    return store


@contextlib.contextmanager
def migrated_from(folder: Path, revision: str, before: Callable[[Any], T] = lambda _old: None) -> Iterator[tuple[Any, T]]:
    """A kiosk store an older kiosk left at ``revision`` in ``folder``, holding what
    ``before(old_store)`` put in it, then opened by this kiosk (every migration since run,
    checked to reach the head); yields (the opened store, what ``before`` returned) and
    closes it afterwards."""
    from kiosk.core.store.db import SCHEMA_HEAD, open_store

    db_file, key_file = folder / "kiosk.sqlite3", folder / "secret.key"
    old = store_at_revision(db_file, key_file, revision)
    try:
        held = before(old)
    finally:
        old.close()
    store = open_store(db_file, key_file=key_file)
    try:
        assert store.schema_revision() == SCHEMA_HEAD != revision
        yield store, held
    finally:
        store.close()


#: The seed's version before schema 0004 (what every kiosk seeded before it holds).
SEED_BEFORE_0004 = "2026-11-23.1"


def seed_as_before_0004(store) -> None:
    """The reference tables as a kiosk before schema 0004 held them: the seed's categories,
    agencies and kecamatan, its version then, no usual agencies and no source."""
    import json

    from kiosk.core import reference

    data = json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))
    with store.engine.begin() as conn:
        for table in ("categories", "agencies"):
            for sort, item in enumerate(data[table]):
                conn.exec_driver_sql(f"INSERT INTO {table} (code, name_id, name_en, sort) VALUES (?, ?, ?, ?)",
                                     (item["code"], item["name_id"], item["name_en"], sort))
        for sort, item in enumerate(data["kecamatan"]):
            conn.exec_driver_sql("INSERT INTO kecamatan (code, name, sort) VALUES (?, ?, ?)",
                                 (item["code"], item["name"], sort))
        conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('reference_version', ?)", (SEED_BEFORE_0004,))


def kiosk_env(data, clock, base: str, token: str, **settings):
    """A kiosk's environment (``build_env``: store, reports, sync worker and its periodic
    tasks) on ``data``, connected to the central at ``base`` with ``token``."""
    import json

    from kiosk.runtime.config import load_config
    from kiosk.runtime.env import build_env

    values = {"data_dir": str(data), "kiosk_code": "MT01", "central_url": base, "central_token": token,
              **settings}
    path = data.parent / f"{data.name}.toml"
    path.write_text("[kiosk]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")
    return build_env(load_config(path, environ={}), now=clock.now, monotonic=clock.monotonic)
