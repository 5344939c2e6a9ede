"""CSV that a spreadsheet opens as data, never as formulas (OWASP, "CSV Injection").

Names, references and free text are stored as typed (a manifest may carry ``=cmd|' /C calc'!A0``
in a name: it is data, and the registry keeps it). Every CSV that Habeas writes goes through
:func:`writer` or :func:`dict_writer`, which put an apostrophe before any text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, so Excel, LibreOffice and Google
Sheets show it as text. Numbers (``int``, ``float``, ``Decimal``) are written as they are: a
negative number is not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

#: The first characters a spreadsheet reads as the start of a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not evaluate: text starting with one of
    :data:`FORMULA_STARTS` gets a leading apostrophe; numbers, booleans and ``None`` pass."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _SafeWriter:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def writerow(self, row: Sequence[Any]) -> Any:
        return self._inner.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _SafeDictWriter:
    def __init__(self, inner: csv.DictWriter[str]) -> None:
        self._inner = inner

    def writeheader(self) -> Any:
        return self._inner.writerow({f: safe_cell(f) for f in self._inner.fieldnames})

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._inner.writerow({k: safe_cell(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: Any, **kwargs: Any) -> _SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""
    return _SafeWriter(csv.writer(fh, **kwargs))


def dict_writer(fh: Any, fieldnames: Sequence[str], **kwargs: Any) -> _SafeDictWriter:
    """``csv.DictWriter`` whose header and every cell go through :func:`safe_cell`."""
    return _SafeDictWriter(csv.DictWriter(fh, fieldnames=fieldnames, **kwargs))
