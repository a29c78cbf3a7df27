"""The names a source records for a child on a date: the truth that day, then the source's corruptions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.synthetic import render

NEVER = 10**9     # a name_change_day that never comes


def children() -> pd.DataFrame:
    """Three children: a Polish girl who goes by a new surname from day 100 (informally), an English
    boy whose surname changes legally on day 50, and a child whose names never change."""
    return pd.DataFrame({
        "child_no": [1, 2, 3], "person_id": ["P1", "P2", "P3"], "forename": ["Zofia", "Jack", "Amina"],
        "middle_names": ["Maria", None, None], "short_form": ["Zosia", None, None],
        "other_spelling": [None, "Jak", None], "sex": ["F", "M", "F"], "name_group": ["polish", "english", "somali_arabic"],
        "surname": ["Kowalska", "Smith", "Hassan"], "surname_m": ["Kowalski", "Smith", "Hassan"],
        "new_surname": ["Nowak", "Jones", None], "new_surname_m": ["Nowak", "Jones", None],
        "name_change": ["informal", "legal", None], "name_change_day": [100, 50, NEVER],
    })


def test_child_names_follow_name_changes_by_the_day():
    names = render.child_names(children(), np.array([1, 1, 2, 2, 3]), np.array([99, 100, 49, 50, 100]))
    assert names["person_id"].tolist() == ["P1", "P1", "P2", "P2", "P3"]
    assert names["surname"].tolist() == ["Kowalska", "Kowalska", "Smith", "Jones", "Hassan"]   # legal
    assert names["surname_used"].tolist() == ["Kowalska", "Nowak", "Smith", "Jones", "Hassan"]
    assert names["preferred_surname"].isna().tolist() == [True, False, True, True, True]
    assert names["former_surname"].fillna("-").tolist() == ["-", "-", "-", "Smith", "-"]
    # the masculine form of a Polish girl's legal surname, for no one else
    assert names["surname_masc"].fillna("-").tolist() == ["Kowalski", "Kowalski", "-", "-", "-"]


def test_recorded_names_without_corruption_are_the_truth_and_only_the_source_columns():
    truth = render.child_names(children(), np.array([1, 2, 3]), np.array([100, 50, 0]))
    clean = render.recorded_names(np.random.default_rng(1), truth, {}, surname="surname_used")
    assert list(clean.columns) == ["person_id", "forename", "middle_names", "surname"]
    assert clean["surname"].tolist() == ["Nowak", "Jones", "Hassan"]
    assert clean["forename"].tolist() == ["Zofia", "Jack", "Amina"]
    no_middle = render.recorded_names(np.random.default_rng(1), truth, {}, middle_names=False)
    assert list(no_middle.columns) == ["person_id", "forename", "surname"]
    assert no_middle["surname"].tolist() == ["Kowalska", "Jones", "Hassan"]


def test_recorded_names_use_the_short_form_and_masculine_surname_at_their_rates():
    truth = render.child_names(children(), np.array([1] * 200), np.array([99] * 200))
    recorded = render.recorded_names(np.random.default_rng(7), truth,
                                     {"diminutive": 1.0, "polish_masculine_form": 1.0})
    assert set(recorded["forename"]) == {"Zosia"} and set(recorded["surname"]) == {"Kowalski"}
