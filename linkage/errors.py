"""The one exception type users see.

Anything the user can fix (a missing file, a bad column, an unreadable job) is raised
as ChildlinkError with a message naming the file, row and column. The CLI prints the
message on one line and exits non-zero; it never shows a traceback for these.
Messages must never contain personal data (names, dates of birth, identifiers).
"""


class ChildlinkError(Exception):
    """A problem with the user's input or environment, explained in plain English."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        self.file, self.row, self.column = file, row, column
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
