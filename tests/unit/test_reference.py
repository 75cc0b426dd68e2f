"""Reference data: the Barito Utara seed, labels in both languages, all-or-nothing replacement."""
from __future__ import annotations

import dataclasses
import json
import re

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
    assert agencies["RSUD"] == "Muara Teweh Regional General Hospital (RSUD)"
    assert {"Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil)", "Dinas Pekerjaan Umum dan Penataan Ruang (PUPR)",
            "Badan Penanggulangan Bencana Daerah (BPBD)", "Perusahaan Daerah Air Minum (PDAM) Barito Utara",
            "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu (DPMPTSP)", "Rumah Sakit Umum Daerah (RSUD) Muara Teweh",
            "Satuan Polisi Pamong Praja (Satpol PP)"} <= {a.label for a in reference.agencies(store, "id")}
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


# -- issue 12: agency names spelled out; the agencies that usually handle a category first --
ABBREVIATION = re.compile(r"\(([A-Z][A-Za-z ]+)\)")


def test_every_agency_is_spelled_out_with_its_abbreviation_in_both_languages():
    """The issue: Indonesian showed bare abbreviations (Disdukcapil, DPMPTSP, BPBD). Every
    name is now words, and where an office is known by an abbreviation it follows in
    brackets, the same one in both languages."""
    data = json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))
    for agency in data["agencies"]:
        for key in ("name_id", "name_en"):
            words = ABBREVIATION.sub("", agency[key]).split()
            assert len(words) >= 2 and not any(w.isupper() and len(w) > 1 for w in words), agency[key]
        for short in ABBREVIATION.findall(agency["name_en"]):  # the name people know it by, in both
            assert short in agency["name_id"], agency
    names = {a["code"]: a["name_id"] for a in data["agencies"]}
    assert names["DISDUKCAPIL"] == "Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil)"
    assert names["BPBD"] == "Badan Penanggulangan Bencana Daerah (BPBD)"


def test_every_category_names_the_agencies_that_usually_handle_it():
    data = json.loads(reference.SEED_FILE.read_text(encoding="utf-8"))
    usual = {c["code"]: c["usual_agencies"] for c in data["categories"]}
    assert usual["KEPENDUDUKAN"][0] == "DISDUKCAPIL" and usual["PERIZINAN"] == ["DPMPTSP"]
    assert usual["AIR_BERSIH"] == ["PDAM"] and usual["LAINNYA"] == []
    assert all(usual[code] for code in usual if code != "LAINNYA")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_agency_choices_put_the_usual_ones_first_in_the_seeds_order(store, lang):
    reference.load_seed_if_empty(store)
    every = reference.agencies(store, lang)
    choices = reference.agency_choices(store, lang, "KESEHATAN")
    assert [c.code for c in choices[:2]] == ["DINKES", "RSUD"] and all(c.usual for c in choices[:2])
    assert not any(c.usual for c in choices[2:])
    assert [c.code for c in choices[2:]] == [c.code for c in every if c.code not in ("DINKES", "RSUD")]
    assert sorted(c.label for c in choices) == sorted(c.label for c in every)  # nothing lost, nothing twice
    kependudukan = reference.agency_choices(store, lang, "KEPENDUDUKAN")
    assert [c.code for c in kependudukan if c.usual] == ["DISDUKCAPIL", "KECAMATAN"]  # the seed's order
    for none_usual in ("LAINNYA", None, "NOT_A_CATEGORY"):
        assert reference.agency_choices(store, lang, none_usual) == every


def test_unknown_or_repeated_usual_agencies_are_refused_and_nothing_changes(store):
    reference.load_seed_if_empty(store)
    before = reference.agency_choices(store, "id", "KESEHATAN")
    for usual, problem in ((["B", "NOPE"], "unknown agency 'NOPE'"), (["B", "B"], "an agency appears twice"),
                           ("B", "expected a list"), ([7], "expected a list")):
        bad = small("v2", "x")
        bad["categories"][0]["usual_agencies"] = usual
        with pytest.raises(reference.ReferenceDataError, match=rf"categories\[0\]\.usual_agencies: {problem}"):
            reference.replace_reference_data(store, bad)
    assert reference.agency_choices(store, "id", "KESEHATAN") == before
    assert reference.version(store) != "v2"


def test_reference_without_usual_agencies_still_loads(store):
    """Reference data from a central that predates usual_agencies: every agency, none first."""
    reference.replace_reference_data(store, small("old-central", "lama"))
    assert reference.agency_choices(store, "id", "A") == [reference.Choice("B", "Dinas lama")]
    with_usual = small("new-central", "baru")
    with_usual["categories"][0]["usual_agencies"] = ["B"]
    reference.replace_reference_data(store, with_usual)
    assert reference.agency_choices(store, "en", "A") == [reference.Choice("B", "Office baru", usual=True)]
    reference.replace_reference_data(store, small("old-again", "lama"))  # replaced, not added to
    assert not any(c.usual for c in reference.agency_choices(store, "id", "A"))


def test_a_newer_seed_replaces_an_older_seed_but_never_the_centrals_data(tmp_path, store):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(small("seed-1", "satu")), encoding="utf-8")
    assert reference.load_seed_if_empty(store, seed) is True
    assert reference.load_seed_if_empty(store, seed) is False  # the same version: nothing to do
    seed.write_text(json.dumps(small("seed-2", "dua")), encoding="utf-8")
    assert reference.load_seed_if_empty(store, seed) is True  # the kiosk was updated
    assert reference.version(store) == "seed-2" and reference.agencies(store, "id")[0].label == "Dinas dua"
    reference.replace_reference_data(store, small("central-9", "pusat"))
    seed.write_text(json.dumps(small("seed-3", "tiga")), encoding="utf-8")
    assert reference.load_seed_if_empty(store, seed) is False
    assert reference.version(store) == "central-9"
