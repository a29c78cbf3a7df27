"""Reading Parquet sources: typed columns become text, row numbers are 1-based positions."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from linkage.errors import ChildlinkError
from linkage.schema import EVENT_FIELDS, SOURCE_TYPES
from src_fixtures import read, write_parquet


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_each_source_type_from_parquet(tmp_path, source_type):
    own = EVENT_FIELDS[source_type]
    columns = {"record_id": ["P1", "P2"], "surname": ["Ray", None]}
    columns.update({f: [f"v{f}", None] for f in own})
    records, rejects = read(write_parquet(tmp_path / "s.pq", columns), type=source_type)
    assert rejects.empty
    assert records["row_number"].tolist() == [1, 2]
    assert records["surname"].tolist() == ["Ray", None]
    assert all(records[f].tolist() == [f"v{f}", None] for f in own if f not in
               ("role", "deregistration_reason", "episode_type", "direction"))


def test_typed_columns_become_plain_text(tmp_path):
    path = write_parquet(tmp_path / "t.parquet", {
        "record_id": pa.array([1, 2, 3], pa.int64()),
        "nhs_number": pa.array([9434765919.0, None, float("nan")], pa.float64()),   # pandas int-with-gaps
        "uprn": pa.array([100023336956, 7, None], pa.int64()),
        "dob": pa.array([dt.date(2015, 3, 1), None, dt.date(2016, 2, 29)], pa.date32()),
        "registration_date": pa.array([dt.datetime(2020, 9, 1), dt.datetime(2020, 9, 1, 13, 5, 7), None],
                                      pa.timestamp("ns")),
        "practice_code": pa.array(["A1", "NULL", " B2 "], pa.string()).dictionary_encode(),
        "address_line": pa.array([1.5, None, None], pa.float64()),
        "sex": pa.array([True, False, None], pa.bool_()),
    })
    records, _ = read(path)
    assert records["record_id"].tolist() == ["1", "2", "3"]
    assert records["nhs_number"].tolist() == ["9434765919", None, None]
    assert records["uprn"].tolist() == ["100023336956", "7", None]
    assert records["dob"].tolist() == ["2015-03-01", None, "2016-02-29"]
    assert records["registration_date"].tolist() == ["2020-09-01", "2020-09-01T13:05:07", None]
    assert records["practice_code"].tolist() == ["A1", None, "B2"]
    assert records["address_line"].tolist() == ["1.5", None, None]
    assert records["sex"].tolist() == ["true", "false", None]


def test_nested_column_is_refused_naming_it(tmp_path):
    path = write_parquet(tmp_path / "n.parquet", {"record_id": ["a"], "forename": pa.array([["x", "y"]])})
    with pytest.raises(ChildlinkError, match="cannot be read as text") as err:
        read(path)
    assert err.value.column == "forename"


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("record_id\nR1\n")
    with pytest.raises(ChildlinkError, match="not a readable Parquet file") as err:
        read(path)
    assert "fake.parquet" in str(err.value)


def test_parquet_with_no_rows(tmp_path):
    path = write_parquet(tmp_path / "e.pq", {"record_id": pa.array([], pa.string())})
    records, rejects = read(path)
    assert len(records) == 0 and rejects.empty
