import os

import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from linkage.outputs import spreadsheet_safe, write_csv, write_text


def test_formula_leading_cells_are_neutralised_and_others_untouched():
    frame = pd.DataFrame({"a": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "plain", None],
                          "n": [1, 2, 3, 4, 5, 6]})
    safe = spreadsheet_safe(frame)
    assert list(safe["a"][:5]) == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert pd.isna(safe["a"][5])
    assert list(safe["n"]) == [1, 2, 3, 4, 5, 6]
    assert frame["a"][0] == "=HYPERLINK(\"x\")"   # the caller's data is not changed


def test_write_csv_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "x.csv"
    write_csv(target, pd.DataFrame({"a": ["=1+1"]}))
    assert target.read_text(encoding="utf-8").splitlines() == ["a", "'=1+1"]
    assert os.listdir(target.parent) == ["x.csv"]


def test_failed_write_keeps_previous_output(tmp_path):
    target = tmp_path / "x.txt"
    write_text(target, "old")

    class Boom(Exception):
        pass

    from linkage.outputs import atomic_path
    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise Boom()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.txt"]


def test_unwritable_output_location_gives_one_clear_error(tmp_path):
    # A file where a folder should be fails even for root (CI runs as root, so chmod is no test).
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(ChildlinkError, match="cannot write") as err:
        write_text(blocker / "x.txt", "data")
    assert "not_a_folder" in str(err.value)
