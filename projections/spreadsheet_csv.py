"""CSV that no spreadsheet evaluates: the one writer of every CSV the ledger serves.

A spreadsheet opening a CSV takes a cell beginning with `=`, `+`, `-` or `@` for a formula (and,
in some, one beginning with a tab or a carriage return), so text a poster chose could run as a
formula on a monitor's machine (CSV injection). Following OWASP's guidance on CSV injection, such
a text cell is written with a single quote before it, which spreadsheets show as text; and a cell
holding a separator other spreadsheets split on (`;`, a tab) is quoted like one holding a comma,
so no cell can start in the middle of another. Numbers stay numbers (-3 is written -3), and a
report without such text is written exactly as before: same bytes.

A file (`csv_file`) begins with a byte order mark: without it Excel reads a CSV in the machine's
legacy code page, and a country's name ("CI (Côte d'Ivoire)") or a court order's comes out garbled.
Python's csv module (with encoding="utf-8-sig"), pandas and LibreOffice read past it.
"""

from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff".encode()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_WHEN_HOLDING = frozenset(',";\t\r\n')


def csv_cell(value: Any) -> str:
    """One cell as written: None empty, numbers and booleans as Python writes them, text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    if any(char in _QUOTED_WHEN_HOLDING for char in text):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as UTF-8 CSV lines ending in \\n (as csv.writer with lineterminator="\\n" wrote them)."""
    lines = []
    for row in rows:
        line = ",".join(map(csv_cell, row))
        lines.append('""' if line == "" and len(row) == 1 else line)  # a lone empty cell is not an empty row
    return "".join(line + "\n" for line in lines).encode()


def csv_file(rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file as the ledger serves it: a byte order mark, then the rows."""
    return BOM + csv_bytes(rows)
