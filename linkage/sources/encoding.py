"""Which text encoding a CSV export is in.

Council systems export UTF-8 (often with a byte-order mark from Excel) or Windows-1252.
The rule: a UTF-8 BOM means UTF-8; otherwise the file is UTF-8 if every byte sequence is valid
UTF-8, else Windows-1252 if it decodes as that. A UTF-16 or UTF-32 byte-order mark is refused
with a message saying so. A stray NUL byte (a damaged export) does not make the whole file
unreadable: the rows holding one are rejected (reader.py), and a header holding one is refused
(csv_file.py), which also catches UTF-16 written without a byte-order mark.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import BinaryIO

from ..errors import ChildlinkError

UTF8_BOM = "utf-8-sig"
UTF8 = "utf-8"
WINDOWS_1252 = "cp1252"

_CHUNK_BYTES = 1 << 24   # validate in 16 MiB chunks so big files are not held twice in memory


# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one.
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def detect_encoding(path: Path, label: str) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"`` for the CSV at ``path``."""
    with path.open("rb") as handle:
        start = handle.read(4)
        for bom, name in _WIDE_BOMS:
            if start.startswith(bom):
                raise ChildlinkError(f"{label}: is {name} text (Excel's 'Unicode Text'); save it as CSV UTF-8",
                                     file=str(path))
        handle.seek(0)
        if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            # A BOM promises UTF-8: the rest must be UTF-8 too, never a guess at another encoding.
            candidates: tuple[str, ...] = (UTF8_BOM,)
        else:
            handle.seek(0)
            candidates = (UTF8, WINDOWS_1252)
        start = handle.tell()
        for encoding in candidates:
            handle.seek(start)
            if _decodes_as(handle, UTF8 if encoding == UTF8_BOM else encoding):
                return encoding
    raise ChildlinkError(f"{label}: cannot be read as UTF-8 or Windows-1252 text "
                         "(save it as CSV UTF-8)", file=str(path))


def _decodes_as(handle: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := handle.read(_CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
