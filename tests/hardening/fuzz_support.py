"""Strategies and invariant checks shared by the fuzz tests (tests/hardening/test_fuzz_*.py).

Generated inputs look like what councils really export, then get broken the ways exports
really break: ragged rows, embedded newlines and quotes, blank lines, placeholders, very long
fields, stray bytes, Excel-mangled values (leading apostrophes, ``9.43E+09`` NHS numbers, dates
as serial numbers). Files are written by ``csv_bytes``, a serialiser of our own, so each test
knows exactly how many data rows a file has (one line per row; a row with no fields is a
blank line).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import event, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

from linkage.schema import CANONICAL_FIELDS


def fuzz_settings(examples: int, *, slow_cap: int | None = None) -> settings:
    """``examples`` generated cases in the default run; with --slow, the slow profile's count
    (tests/conftest.py), up to ``slow_cap`` for properties whose every example is a large batch."""
    slow = settings.get_profile("childlink-slow").max_examples
    if settings.default.max_examples < slow:
        return settings(max_examples=examples)
    return settings(max_examples=min(max(examples, slow), slow_cap or slow))


def outcome(label: str) -> None:
    """Count an outcome in hypothesis's statistics (--hypothesis-show-statistics), outside too."""
    if currently_in_test_context():
        event(label)


# ---------------------------------------------------------------- field values
NHS_VALID = ("9434765919", "943 476 5919", "943-476-5919", "4010232137", "9990000018")
UPN_VALID = ("A330242021020", "P330279118003", "a330 2420 21020")
DATE_SHAPES = ("2015-03-01", "01/03/2015", "1/3/2015", "01-03-2015", "01.03.2015", "2015-3-1",
               "2015-03-01 00:00:00", "2015-03-01T10:20:30", "31/02/2015", "29/02/2016", "00/00/0000",
               "15/03/15", "2015/03/01", "20150301", "1 March 2015", "Mar 1 2015", "0015-03-01",
               "1899-12-31", "2099-01-01", "42064", "42064.5", "99999", "00001", "1.5", "-1", "2015-13-45")
IDENTIFIER_SHAPES = ("9.43477E+09", "9.434765919E+09", "1.23E+09", "9434765919.0", "'9434765919", "'0123",
                     "943476591", "94347659190", "943 476 591 9", "9434765918", "0000000000",
                     "A33024202102", "A3302420210200", "I330242021020", "Z999999999999", "000000199356",
                     "0", "1000000000000", "1.00023E+11", "'A330242021020")
EXCEL_MANGLED = ("'", "''", "'2015-03-01", "' 01/03/2015", "'M", "'B1 0AA", "=1+1", "+44", "-", "#N/A",
                 "#VALUE!", "TRUE", "FALSE", "1.23E+09", "42064", "44197")
PLACEHOLDERS = ("", " ", "\t", "NULL", "null", "n/a", "N/A", "unknown", "None", "-", "\u00a0", "\u3000")
NAMES = ("Amy", "O'Brien", "Łukasz", "MÜLLER", "van der Berg", "Al-Hassan", "José María", "Zoë",
         "Nguyễn", "李", "Smith-Jones", "<script>", "Robert'); DROP TABLE records;--", "Ø", "ß", "ǅ")
POSTCODES = ("SW1A 1AA", "sw1a1aa", "B1 OAA", "B1 0AA", "EC1A-1BB", "GIR 0AA", "ZZ99 3VZ", "B13", "1AA")
SEX = ("M", "F", "U", "m", "female", "1", "2", "0", "9", "X", "Male ", "'F")
ENUMS = ("liable", "Partner", "gone away", "gone-away", "IN", "out", "CIN", "cla", "embarkation")

_CURATED = (NHS_VALID + UPN_VALID + DATE_SHAPES + IDENTIFIER_SHAPES + EXCEL_MANGLED + PLACEHOLDERS
            + NAMES + POSTCODES + SEX + ENUMS)

# Characters that break CSV parsing or trimming when they appear inside a field.
_AWKWARD = st.sampled_from([",", '"', "\n", "\r", "\r\n", "'", " ", "\t", "\u00a0", "\u2028", "\ufeff",
                            "\u200b", ";", "|", "\\", "é", "€", "’", "😀"])


@st.composite
def long_field(draw) -> str:
    """A very long field: up to 200,000 characters, sometimes with awkward characters inside."""
    n = draw(st.integers(1_000, 200_000))
    filler = draw(st.sampled_from(["x", "9", " ", "é", "ab,"]))
    text = (filler * n)[:n]
    return draw(st.sampled_from(["", '"', "\n"])) + text


def field_text() -> st.SearchStrategy[str]:
    """One field as a council export might hold it, or as it might be broken."""
    return st.one_of(
        st.sampled_from(_CURATED),
        st.text(max_size=20),
        st.lists(st.one_of(st.sampled_from(_CURATED), _AWKWARD, st.text(max_size=4)), max_size=5).map("".join),
        st.integers(-10**13, 10**13).map(str),
        st.dates(dt.date(1850, 1, 1), dt.date(2150, 1, 1)).flatmap(_date_forms),
    )


def _date_forms(d: dt.date) -> st.SearchStrategy[str]:
    serial = (d - dt.date(1899, 12, 30)).days
    return st.sampled_from([d.isoformat(), d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"), d.strftime("%d.%m.%y"),
                            f"{d.day}/{d.month}/{d.year}", str(serial), f"'{d.isoformat()}"])


# ---------------------------------------------------------------- headers and files
_HEADER_NAMES = CANONICAL_FIELDS + ("record_id", "Record ID", "RECORD_ID", " record_id ", "DOB", "NHS Number",
                                    "Forename", "surname ", "Post Code", "extra", "notes", "", " ")


@st.composite
def header(draw) -> list[str]:
    """Column names: mostly canonical or near-canonical, record_id usually present, odd names possible."""
    names = draw(st.lists(st.one_of(st.sampled_from(_HEADER_NAMES), st.text(max_size=8)), min_size=0, max_size=10))
    if draw(st.integers(0, 9)) > 0:
        names.insert(draw(st.integers(0, len(names))), "record_id")
    if names and draw(st.integers(0, 19)) == 0:       # a duplicate header
        names.append(draw(st.sampled_from(names)))
    if draw(st.integers(0, 9)) > 0:
        # Keep the common case parseable: names unique after trimming (duplicates are tested above).
        seen: set[str] = set()
        unique = []
        for name in names:
            if name.strip() not in seen or not name.strip():
                unique.append(name)
                seen.add(name.strip())
        names = unique
    return names or ["record_id"]


@st.composite
def rows_for(draw, width: int, *, long_fields: bool = True) -> list[list[str]]:
    """Data rows for a header of ``width`` columns; some ragged, some empty, ids often repeated."""
    ids = st.one_of(st.integers(0, 30).map(str), st.sampled_from(("", " ", "NULL", "'007", "a,b", 'x"y', "é")))
    values = field_text()
    if long_fields:
        values = st.one_of(values, long_field()) if draw(st.integers(0, 19)) == 0 else values

    @st.composite
    def row(draw2) -> list[str]:
        shape = draw2(st.integers(0, 19))
        if shape == 0:
            return []                                           # blank line
        n = width if shape > 3 else max(0, width + draw2(st.integers(-3, 3)))   # ragged
        fields = draw2(st.lists(values, min_size=n, max_size=n))
        if fields and draw2(st.booleans()):
            fields[0] = draw2(ids)
        return fields
    return draw(st.lists(row(), max_size=25))


def _quoted(field: str, force: bool) -> str:
    if force or any(c in field for c in ',"\r\n') or field != field.strip(" "):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_bytes(header_names: list[str], rows: list[list[str]], *, encoding: str, newline: str,
              quote_all: bool, final_newline: bool) -> bytes:
    """The CSV file, one line per row (a row with no fields is a blank line).

    A row of exactly one empty field is written ``""`` so that it is not mistaken for a blank line.
    """
    lines = []
    for fields in [header_names] + rows:
        if len(fields) == 1 and fields[0] == "":
            lines.append('""')
        else:
            lines.append(",".join(_quoted(f, quote_all) for f in fields))
    text = newline.join(lines) + (newline if final_newline else "")
    if encoding == "cp1252":
        try:
            return text.encode("cp1252")
        except UnicodeEncodeError:
            encoding = "utf-8"
    return text.encode(encoding)


@st.composite
def csv_case(draw, *, long_fields: bool = True) -> tuple[bytes, list[str], list[list[str]]]:
    """(file bytes, header, rows) of a well-serialised but messy CSV export."""
    names = draw(header())
    rows = draw(rows_for(len(names), long_fields=long_fields))
    data = csv_bytes(names, rows, encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
                     newline=draw(st.sampled_from(["\r\n", "\n", "\r"])), quote_all=draw(st.booleans()),
                     final_newline=draw(st.booleans()) or not rows or rows[-1] == [])
    return data, names, rows


@st.composite
def damaged_bytes(draw, data: bytes) -> bytes:
    """``data`` with bytes inserted, overwritten or cut: NULs, lone quotes, invalid UTF-8, truncation."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(out)))
        action = draw(st.sampled_from(["insert", "truncate", "overwrite"]))
        junk = draw(st.one_of(st.sampled_from([b"\x00", b'"', b"\xff", b"\xc3", b"\x81", b"\r", b"\n", b",",
                                               b"\xef\xbb\xbf", b"\xff\xfe", b"\x1a"]), st.binary(max_size=6)))
        if action == "insert":
            out[at:at] = junk
        elif action == "truncate":
            del out[at:]
        else:
            out[at:at + len(junk)] = junk
    return bytes(out)


# ---------------------------------------------------------------- invariants
def assert_every_row_accounted(records: pd.DataFrame, rejects: pd.DataFrame, data_rows: int, first_row: int) -> None:
    """Each data row is exactly one record or one reject with a reason; record ids unique and present."""
    numbers = np.concatenate([records["row_number"].to_numpy(dtype=np.int64),
                              rejects["row_number"].to_numpy(dtype=np.int64)])
    expected = np.arange(first_row, first_row + data_rows, dtype=np.int64)
    assert len(numbers) == data_rows, f"{len(numbers)} rows out, {data_rows} in"
    assert np.array_equal(np.sort(numbers), expected), "row numbers are not each input row once"
    assert rejects["reason"].notna().all() and (rejects["reason"].str.len() > 0).all()
    ids = records["record_id"]
    assert ids.notna().all() and ids.is_unique


def assert_rows_contiguous(records: pd.DataFrame, rejects: pd.DataFrame, first_row: int) -> int:
    """Without knowing the row count: row numbers are distinct and run from first_row with no gap."""
    numbers = np.sort(np.concatenate([records["row_number"].to_numpy(dtype=np.int64),
                                      rejects["row_number"].to_numpy(dtype=np.int64)]))
    assert np.array_equal(numbers, np.arange(first_row, first_row + len(numbers))), "a row is missing or repeated"
    return len(numbers)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- Parquet columns
def _column_of(n: int) -> st.SearchStrategy:
    """A pyarrow array of ``n`` values of one type, with nulls and edge values."""
    import pyarrow as pa

    def values(strategy):
        return st.lists(st.one_of(st.none(), strategy), min_size=n, max_size=n)

    floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([9434765919.0, 1.23e9, 0.5, -0.0, 2.0 ** 53, 2.0 ** 63, 1e300, 42064.0]))
    ints = st.one_of(st.integers(-2**63, 2**63 - 1), st.sampled_from([9434765919, 199356, 42064, 0]))
    stamps = st.datetimes(dt.datetime(1677, 9, 22), dt.datetime(2262, 4, 11))
    builders = {
        "string": lambda: values(field_text()).map(lambda v: pa.array(v, pa.string())),
        "large_string": lambda: values(field_text()).map(lambda v: pa.array(v, pa.large_string())),
        "dictionary": lambda: values(field_text()).map(lambda v: pa.array(v, pa.string()).dictionary_encode()),
        "int64": lambda: values(ints).map(lambda v: pa.array(v, pa.int64())),
        "uint64": lambda: values(st.integers(0, 2**64 - 1)).map(lambda v: pa.array(v, pa.uint64())),
        "float64": lambda: values(floats).map(lambda v: pa.array(v, pa.float64())),
        "float32": lambda: values(floats).map(lambda v: pa.array(v, pa.float64()).cast(pa.float32(), safe=False)),
        "bool": lambda: values(st.booleans()).map(lambda v: pa.array(v, pa.bool_())),
        "date32": lambda: values(st.dates()).map(lambda v: pa.array(v, pa.date32())),
        "timestamp_ns": lambda: values(stamps).map(lambda v: pa.array(v, pa.timestamp("ns"))),
        "timestamp_us_tz": lambda: values(st.datetimes()).map(lambda v: pa.array(v, pa.timestamp("us", tz="Europe/London"))),
        "timestamp_ms": lambda: values(st.datetimes()).map(lambda v: pa.array(v, pa.timestamp("ms"))),
        "binary": lambda: values(st.binary(max_size=12)).map(lambda v: pa.array(v, pa.binary())),
        "decimal": lambda: values(st.decimals(-10**9, 10**9, places=3)).map(lambda v: pa.array(v, pa.decimal128(15, 3))),
        "null": lambda: st.just(pa.nulls(n)),
        "time": lambda: values(st.times()).map(lambda v: pa.array(v, pa.time64("us"))),
        "list": lambda: values(st.lists(st.text(max_size=3), max_size=2)).map(lambda v: pa.array(v, pa.list_(pa.string()))),
    }
    return st.sampled_from(sorted(builders)).flatmap(lambda k: builders[k]())


@st.composite
def parquet_case(draw):
    """(pyarrow table, number of rows): typed columns under messy (possibly repeated) names."""
    import pyarrow as pa

    names = draw(header())
    n = draw(st.integers(0, 20))
    arrays = [draw(_column_of(n)) for _ in names]
    return pa.Table.from_arrays(arrays, names=names), n
