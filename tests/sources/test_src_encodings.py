"""CSV encodings: UTF-8, UTF-8 with BOM, Windows-1252; anything else is refused clearly."""

from __future__ import annotations

import pytest

from linkage.errors import ChildlinkError
from linkage.sources.encoding import detect_encoding
from src_fixtures import read, write_text

HEADER = "record_id,forename,surname\r\n"


def test_utf8_keeps_every_character(tmp_path):
    path = write_text(tmp_path / "u.csv", HEADER + "R1,Łukasz,Wójcik\r\nR2,Zoë,Ørsted\r\n")
    records, _ = read(path)
    assert detect_encoding(path, "x") == "utf-8"
    assert records["forename"].tolist() == ["Łukasz", "Zoë"]
    assert records["surname"].tolist() == ["Wójcik", "Ørsted"]


def test_utf8_with_bom_does_not_corrupt_the_first_column_name(tmp_path):
    path = write_text(tmp_path / "b.csv", "\ufeff" + HEADER + "R1,Łukasz,Nowak\r\n")
    records, _ = read(path)
    assert detect_encoding(path, "x") == "utf-8-sig"
    assert records["record_id"].tolist() == ["R1"]      # found by name, so the BOM was not glued to it
    assert records["forename"].tolist() == ["Łukasz"]


def test_windows_1252_is_decoded(tmp_path):
    path = write_text(tmp_path / "w.csv", HEADER + "R1,Zoë,O’Neill\r\nR2,Renée,Müller\r\n", encoding="cp1252")
    assert detect_encoding(path, "x") == "cp1252"
    records, _ = read(path)
    assert records["forename"].tolist() == ["Zoë", "Renée"]
    assert records["surname"].tolist() == ["O’Neill", "Müller"]


@pytest.mark.parametrize("content, message", [
    ((HEADER + "R1,Zoë,Smith\r\n").encode("utf-16"), "is UTF-16 text"),                  # with its BOM
    ((HEADER + "R1,Zoë,Smith\r\n").encode("utf-16-le"), "header row holds NUL bytes"),   # without a BOM
    ((HEADER + "R1,Zoë,Smith\r\n").encode("utf-32"), "is UTF-32 text"),
    (bytes(range(256)) * 4, "cannot be read as UTF-8 or Windows-1252 text"),              # binary
    (b"\xef\xbb\xbf" + HEADER.encode() + b"R1,Zo\x81,Smith\r\n",                          # BOM promises UTF-8,
     "cannot be read as UTF-8 or Windows-1252 text"),                                     # then is not
])
def test_other_encodings_and_binary_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ChildlinkError, match=message) as err:
        read(path)
    assert "bad.csv" in str(err.value)
