"""The model's DuckDB conditions rewritten for Spark (no Spark needed)."""

from __future__ import annotations

import re

import pytest

from linkage.blocking import load_rule_set
from linkage.model import DEFAULT_MODEL, load_model
from linkage.spark import spark_model, spark_sql

ARRAYS = frozenset({"upn_ids", "forename_aliases", "forename_forms", "name_tokens", "surname_history_tokens"})
DUCKDB_ONLY = ("list_has_any", "list_bool_or", "list_transform", "jaro_winkler_similarity", "date_diff",
               "lambda ", "&&")


def test_list_overlap_becomes_arrays_overlap():
    assert spark_sql("list_has_any(upn_ids_l, upn_ids_r)", ARRAYS) == "ARRAYS_OVERLAP(upn_ids_l, upn_ids_r)"


def test_any_of_a_transformed_list_becomes_exists_with_a_spark_lambda():
    sql = spark_sql("list_bool_or(list_transform(forename_forms_r, lambda f: damerau_levenshtein(forename1_l, f) <= 1))",
                    ARRAYS)
    assert sql == "EXISTS(forename_forms_r, f -> DAMERAU_LEVENSHTEIN(forename1_l, f) <= 1)"


def test_length_is_size_for_lists_and_length_for_text():
    sql = spark_sql('len("upn_ids_l") = 0 OR length(forename1_r) >= 4', ARRAYS)
    assert "SIZE(`upn_ids_l`) = 0" in sql
    assert "LENGTH(forename1_r) >= 4" in sql


def test_day_difference_keeps_its_sign_convention():
    # DuckDB date_diff('day', a, b) is b - a; Spark datediff(end, start) is end - start.
    assert spark_sql("date_diff('day', dob_date_l, dob_date_r) <= 31", ARRAYS) == \
        "DATEDIFF(dob_date_r, dob_date_l) <= 31"


def test_jaro_winkler_uses_splinks_spark_function():
    assert spark_sql('jaro_winkler_similarity("surname1_l", "surname1_r") >= 0.92', ARRAYS) == \
        "JARO_WINKLER(`surname1_l`, `surname1_r`) >= 0.92"


@pytest.fixture(scope="module")
def translated():
    model = load_model(DEFAULT_MODEL)
    return model, spark_model(model, load_rule_set("default"), ARRAYS)


def test_the_whole_default_model_translates_and_keeps_its_parameters(translated):
    model, spark = translated
    assert spark["sql_dialect"] == "spark"
    assert spark["probability_two_random_records_match"] == model["probability_two_random_records_match"]
    for duck, comp in zip(model["comparisons"], spark["comparisons"]):
        assert len(duck["comparison_levels"]) == len(comp["comparison_levels"])
        for a, b in zip(duck["comparison_levels"], comp["comparison_levels"]):
            assert (a.get("m_probability"), a.get("u_probability"), a.get("label_for_charts")) == \
                   (b.get("m_probability"), b.get("u_probability"), b.get("label_for_charts"))
            lowered = b["sql_condition"].lower()
            assert not any(word in lowered for word in DUCKDB_ONLY), b["sql_condition"]
            assert not re.search(r"\blen\(", lowered), b["sql_condition"]


def test_blocking_rules_are_spark_rules(translated):
    _, spark = translated
    rules = spark["blocking_rules_to_generate_predictions"]
    assert len(rules) == len(load_rule_set("default").rules)
    assert all(r["sql_dialect"] == "spark" for r in rules)
    assert any(r.get("arrays_to_explode") == ["upn_ids"] for r in rules)
