"""Which text encoding a CSV export is in.

Council systems export UTF-8 (often with a byte-order mark from Excel) or Windows-1252.
The rule: a UTF-8 BOM means UTF-8; otherwise the file is UTF-8 if every byte sequence is valid
UTF-8, else Windows-1252 if it decodes as that. NUL bytes mean binary or UTF-16, which we refuse
rather than misread.
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


def detect_encoding(path: Path, label: str) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"`` for the CSV at ``path``."""
    with path.open("rb") as handle:
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
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
