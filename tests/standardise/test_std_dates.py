"""Date parsing through standardise_records: DOB and event dates, detected or job formats."""

import datetime as dt

import pytest

from linkage.errors import ChildlinkError
from linkage.standardise import standardise_records

D = dt.date


@pytest.mark.parametrize("raw, parsed", [
    ("2015-01-05", D(2015, 1, 5)),                # ISO
    ("05/01/2015", D(2015, 1, 5)),                # UK
    ("5/1/2015", D(2015, 1, 5)),                  # single-digit day and month
    ("05-01-2015", D(2015, 1, 5)),
    ("05.01.2015", D(2015, 1, 5)),
    ("2015-01-05 00:00:00", D(2015, 1, 5)),       # with time
    ("2015-01-05T13:45", D(2015, 1, 5)),
    ("05/01/2015 00:00", D(2015, 1, 5)),
    (" 2015-1-5 ", D(2015, 1, 5)),
])
def test_detected_dob_formats(standardise, raw, parsed):
    [row] = standardise([{"dob": raw}])
    assert row["dob_date"] == parsed
    assert (row["dob_iso"], row["dob_year"], row["dob_month"], row["dob_day"]) == (
        parsed.isoformat(), parsed.year, parsed.month, parsed.day)
    assert row["dq_flags"] == []


@pytest.mark.parametrize("raw", ["31/02/2015", "2015-13-01", "01/02/15", "0015-01-01", "1899-12-31",
                                 "yesterday", "2015/01/05", "05/01/2015 junk", "=TODAY()"])
def test_unparseable_dob_is_flagged(standardise, raw):
    [row] = standardise([{"dob": raw}])
    assert row["dob_date"] is None and row["dob_year"] is None
    assert row["dq_flags"] == ["bad_dob"]


def test_future_dob_is_nulled_and_flagged(standardise):
    rows = standardise([{"dob": "2026-11-02"}, {"dob": "2026-11-01"}])
    assert rows[0]["dob_date"] is None and rows[0]["dq_flags"] == ["dob_in_future"]
    assert rows[1]["dob_date"] == D(2026, 11, 1) and rows[1]["dq_flags"] == []


def test_dob_before_1990_is_kept_and_flagged(standardise):
    rows = standardise([{"dob": "12/07/1975"}, {"dob": "1990-01-01"}])
    assert rows[0]["dob_date"] == D(1975, 7, 12) and rows[0]["dq_flags"] == ["dob_before_1990"]
    assert rows[1]["dq_flags"] == []


def test_missing_dob_is_not_flagged(standardise):
    rows = standardise([{"dob": None}, {"dob": ""}, {"dob": "   "}])
    assert [r["dob_date"] for r in rows] == [None, None, None]
    assert [r["dq_flags"] for r in rows] == [[], [], []]


def test_job_format_wins_for_its_source_with_iso_fallback(standardise):
    rows = standardise([
        {"source": "us", "dob": "01/05/2015"},
        {"source": "us", "dob": "2015-01-05"},
        {"source": "us", "dob": "13/05/2015"},      # impossible as month/day
        {"source": "edu", "dob": "01/05/2015"},     # other sources still detect UK order
    ], date_formats={"us": "%m/%d/%Y", "gp": None})
    assert [r["dob_date"] for r in rows] == [D(2015, 1, 5), D(2015, 1, 5), None, D(2015, 5, 1)]
    assert rows[2]["dq_flags"] == ["bad_dob"]


def test_job_format_applies_to_event_dates(standardise):
    rows = standardise([{"source": "sc", "episode_start": "2021.03.04"}], date_formats={"sc": "%Y.%m.%d"})
    assert rows[0]["episode_start"] == D(2021, 3, 4)


def test_event_dates_are_typed_in_place_and_flagged(standardise):
    [row] = standardise([{"entry_date": "2020-09-01", "leaving_date": "garbage",
                          "registration_date": "01/01/2027", "travel_date": "2022-07-01 10:00:00"}])
    assert row["entry_date"] == D(2020, 9, 1)
    assert row["leaving_date"] is None
    assert row["registration_date"] == D(2027, 1, 1)        # future: kept
    assert row["travel_date"] == D(2022, 7, 1)
    assert row["dq_flags"] == ["bad_date:leaving_date", "future_date:registration_date"]


@pytest.mark.parametrize("bad_format", ["%Q-%d", "dd/mm/yyyy", 17])
def test_unusable_job_format_is_one_clear_error(con, make_records, bad_format):
    make_records([{"dob": "2015-01-05"}])
    with pytest.raises(ChildlinkError, match="date_format for source 'edu'"):
        standardise_records(con, reference_date=D(2026, 11, 1), date_formats={"edu": bad_format})
