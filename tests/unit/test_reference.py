"""Reference data: the Barito Utara seed, labels in both languages, all-or-nothing replacement."""
from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import text

from kiosk.core import reference
from kiosk.core.store.db import open_store

KECAMATAN = {"Gunung Purei", "Gunung Timang", "Lahei", "Lahei Barat", "Montallat",
             "Teweh Baru", "Teweh Selatan", "Teweh Tengah", "Teweh Timur"}


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "kiosk.sqlite3", key_file=tmp_path / "secret.key")
    yield opened
    opened.close()


def small(version: str, label: str) -> dict:
    return {
        "version": version,
        "categories": [{"code": "A", "name_id": f"Kategori {label}", "name_en": f"Category {label}"}],
        "agencies": [{"code": "B", "name_id": f"Dinas {label}", "name_en": f"Office {label}"}],
        "kecamatan": [{"code": "C", "name": f"Kecamatan {label}"}],
    }


def test_seed_file_is_barito_utara():
    data = json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))
    assert reference.SEED_FILE.parts[-3:] == ("assets", "seed", "barito_utara.json")
    assert isinstance(data["version"], str) and data["version"]
    assert {k["name"] for k in data["kecamatan"]} == KECAMATAN
    assert len(data["categories"]) >= 12 and len(data["agencies"]) >= 15
    for key in ("categories", "agencies"):
        for item in data[key]:
            assert item["name_id"].strip() and item["name_en"].strip(), item


def test_empty_store_has_no_reference_data(store):
    assert reference.categories(store, "id") == reference.agencies(store, "id") == reference.kecamatan(store) == []
    assert reference.version(store) is None


def test_seed_loads_once_in_both_languages(store):
    assert reference.load_seed_if_empty(store, reference.SEED_FILE) is True
    assert {c.label for c in reference.kecamatan(store)} == KECAMATAN
    assert len(reference.kecamatan(store)) == 9
    cat_id, cat_en = reference.categories(store, "id"), reference.categories(store, "en")
    assert [c.code for c in cat_id] == [c.code for c in cat_en]
    labels = dict(zip((c.code for c in cat_id), zip((c.label for c in cat_id), (c.label for c in cat_en))))
    assert labels["KESEHATAN"] == ("Kesehatan", "Health")
    assert labels["PUNGLI"][1] == "Illegal fees and corruption"
    agencies = {a.code: a.label for a in reference.agencies(store, "en")}
    assert agencies["RSUD"] == "Muara Teweh District Hospital"
    assert {"Disdukcapil", "Dinas PUPR", "BPBD", "PDAM Barito Utara"} <= {a.label for a in reference.agencies(store, "id")}
    assert reference.version(store) == json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))["version"]
    assert reference.load_seed_if_empty(store, reference.SEED_FILE) is False


def test_seed_order_is_kept(store):
    reference.load_seed_if_empty(store)
    data = json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))
    assert [c.code for c in reference.categories(store, "id")] == [c["code"] for c in data["categories"]]
    assert [k.code for k in reference.kecamatan(store)] == [k["code"] for k in data["kecamatan"]]


def test_seed_is_not_loaded_over_existing_data(tmp_path, store):
    reference.replace_reference_data(store, small("central-7", "pusat"))
    assert reference.load_seed_if_empty(store) is False
    assert reference.version(store) == "central-7"
    assert [c.label for c in reference.categories(store, "id")] == ["Kategori pusat"]


def test_seed_from_another_file(tmp_path, store):
    seed = tmp_path / "kota.json"
    seed.write_text(json.dumps(small("kota-1", "kota")), encoding="utf-8")
    assert reference.load_seed_if_empty(store, seed) is True
    assert reference.kecamatan(store) == [reference.Choice("C", "Kecamatan kota")]
    assert reference.version(store) == "kota-1"


def test_choices_are_plain_frozen_values(store):
    reference.load_seed_if_empty(store)
    choice = reference.categories(store, "en")[0]
    assert type(choice) is reference.Choice
    with pytest.raises(dataclasses.FrozenInstanceError):
        choice.label = "x"  # type: ignore[misc]


def test_replacement_failing_in_the_database_changes_nothing(store):
    """GIVEN the kecamatan table refuses inserts WHEN new reference data arrives THEN the
    categories, agencies and version already deleted-and-rewritten are rolled back."""
    reference.load_seed_if_empty(store)
    before = (reference.categories(store, "id"), reference.agencies(store, "en"), reference.kecamatan(store),
              reference.version(store))
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON kecamatan BEGIN SELECT RAISE(ABORT, 'no'); END"))
    with pytest.raises(Exception, match="no"):
        reference.replace_reference_data(store, small("v9", "baru"))
    after = (reference.categories(store, "id"), reference.agencies(store, "en"), reference.kecamatan(store),
             reference.version(store))
    assert after == before


def test_malformed_data_is_refused_with_its_place(store):
    reference.load_seed_if_empty(store)
    bad = small("v2", "x")
    bad["agencies"].append({"code": "B", "name_id": "Lagi", "name_en": "Again"})
    with pytest.raises(reference.ReferenceDataError, match=r"agencies\[1\]\.code"):
        reference.replace_reference_data(store, bad)
    assert len(reference.kecamatan(store)) == 9
