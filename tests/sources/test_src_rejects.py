"""Nothing lost: every data row is either a record or a reject, with its spreadsheet row number."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.sources.rejects import reason_categories

from src_fixtures import read, write_parquet, write_text

MESSY = ("record_id,forename,surname\n"
         "R1,Ava,Ray\n"          # 2 kept
         ",Bo,Li\n"              # 3 missing record_id
         "R1,Ava,Ray\n"          # 4 duplicate of row 2
         "R2,Cy\n"               # 5 too few fields
         "N/A,Di,Ko\n"           # 6 placeholder record_id = missing
         "R3,Ed,Oz,extra\n"      # 7 too many fields
         ",,\n"                  # 8 empty
         "R2,Fi,Po\n"            # 9 kept: the malformed row 5 never became a record
         "R1,Gu,Ra\n")           # 10 duplicate of row 2


def test_missing_duplicate_and_ragged_rows_are_rejected_with_reasons(tmp_path):
    records, rejects = read(write_text(tmp_path / "m.csv", MESSY), name="gp")
    assert records[["record_id", "row_number"]].values.tolist() == [["R1", 2], ["R2", 9]]
    assert rejects.columns.tolist() == ["source", "record_id", "row_number", "reason"]
    assert rejects.astype(object).where(rejects.notna(), None).values.tolist() == [
        ["gp", None, 3, "missing record_id"],
        ["gp", "R1", 4, "duplicate record_id (first seen at row 2)"],
        ["gp", "R2", 5, "unreadable row: expected 3 fields, found 2"],
        ["gp", None, 6, "missing record_id"],
        ["gp", "R3", 7, "unreadable row: expected 3 fields, found 4"],
        ["gp", None, 8, "empty row"],
        ["gp", "R1", 10, "duplicate record_id (first seen at row 2)"],
    ]


def test_malformed_row_record_id_is_unknown_when_not_the_first_column(tmp_path):
    _, rejects = read(write_text(tmp_path / "m.csv", "forename,record_id\nAva,R1\nBo,R2,x\n"))
    assert rejects["record_id"].isna().all() and rejects["row_number"].tolist() == [3]


def test_duplicates_and_missing_ids_in_parquet(tmp_path):
    path = write_parquet(tmp_path / "p.parquet", {"record_id": ["A", None, "A", " ", "B"],
                                                   "forename": ["x", "y", "z", "w", "v"]})
    records, rejects = read(path)
    assert records[["record_id", "row_number"]].values.tolist() == [["A", 1], ["B", 5]]
    assert rejects[["row_number", "reason"]].values.tolist() == [
        [2, "missing record_id"], [3, "duplicate record_id (first seen at row 1)"], [4, "missing record_id"]]


# Row shapes a messy export mixes: good rows (some quoted, some multi-line), rows missing the id,
# rows with too few or too many fields, blank lines.
ROW_SHAPES = [("R1", "a"), ("R2", "b c"), ("R3", '"q,""x"""'), ("R1", '"l1\nl2"'), ("", "a"), ("NULL", "b"),
              ("R9",), ("R8", "x", "y"), ()]


def test_every_row_is_a_record_or_a_reject_exactly_once(tmp_path):
    rng = np.random.default_rng(7)
    for case in range(40):
        rows = [ROW_SHAPES[i] for i in rng.integers(0, len(ROW_SHAPES), size=rng.integers(0, 30))]
        path = write_text(tmp_path / f"r{case}.csv", "record_id,forename\n" + "".join(",".join(r) + "\n" for r in rows))
        records, rejects = read(path)
        numbers = np.sort(np.concatenate([records["row_number"].to_numpy(int), rejects["row_number"].to_numpy(int)]))
        assert numbers.tolist() == list(range(2, 2 + len(rows)))          # each spreadsheet row exactly once
        assert records["record_id"].is_unique and records["record_id"].notna().all()
        assert set(records["record_id"]) == {r[0] for r in rows if len(r) == 2 and r[0] not in ("", "NULL")}


def test_reject_reasons_are_counted_by_kind_without_their_row_detail():
    reasons = pd.Series(["duplicate record_id (first seen at row 2)", "unreadable row: expected 3 fields, found 2",
                         "missing record_id", "empty row", "duplicate record_id (first seen at row 17)"])
    assert reason_categories(reasons).tolist() == ["duplicate record_id", "unreadable row", "missing record_id",
                                                   "empty row", "duplicate record_id"]
