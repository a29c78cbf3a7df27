"""The reference CSVs: well-formed, and holding the entries the rules depend on."""

import csv
import re

from linkage.standardise.reference import DATA_DIR


def _rows(name):
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_name_aliases_are_well_formed():
    rows = _rows("name_aliases.csv")
    assert len(rows) >= 250
    assert set(rows[0]) == {"canonical", "variant", "kind"}
    pairs = [(r["canonical"], r["variant"]) for r in rows]
    assert len(pairs) == len(set(pairs)), "one row per pair"
    for row in rows:
        assert row["kind"] in {"diminutive", "spelling"}
        assert row["canonical"] != row["variant"]
        for name in (row["canonical"], row["variant"]):
            assert re.fullmatch(r"[a-z]+( [a-z]+)?", name), name


def test_name_aliases_hold_the_required_pairs():
    pairs = {(r["canonical"], r["variant"]) for r in _rows("name_aliases.csv")}
    required = [("alfred", "alfie"), ("evelyn", "evie"), ("isabella", "izzy"), ("charlotte", "charlie"),
                ("charles", "charlie"), ("edward", "ned"), ("katarzyna", "kasia"), ("jakub", "kuba"),
                ("malgorzata", "gosia"), ("wojciech", "voytek"), ("ion", "ionut"), ("george", "gheorghe"),
                ("muhammad", "mohammed"), ("hussain", "hossain"), ("yusuf", "youssef"),
                ("aisha", "ayesha"), ("maryam", "miriam"), ("zainab", "zaynab")]
    assert [p for p in required if p not in pairs] == []


def test_la_codes_expand_the_documented_ranges():
    rows = _rows("la_codes.csv")
    codes = {r["la_code"]: r["kind"] for r in rows}
    assert len(codes) == len(rows)
    assert all(re.fullmatch(r"[0-9]{3}", c) for c in codes)
    assert {codes[c] for c in ("001", "005")} == {"pseudo"}
    assert {codes[c] for c in ("660", "681", "701", "708")} == {"wales"}
    assert {codes[c] for c in ("201", "213", "330", "838", "909", "928", "942", "943")} == {"la"}
    for absent in ("000", "006", "214", "321", "682", "700", "709", "804", "944", "999"):
        assert absent not in codes
    assert len(codes) == 195


def test_sex_codes_map_to_m_f_or_blank():
    rows = _rows("sex_codes.csv")
    assert {r["sex"] for r in rows} == {"M", "F", ""}
    assert all(r["code"] == r["code"].upper() for r in rows)
