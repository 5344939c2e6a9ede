"""Canonical JSON: the exact bytes the ledger hashes.

Keys sorted, no insignificant whitespace, UTF-8, no NaN/Infinity; decimals and dates become
strings before encoding (HOUSE-STYLE: money is a decimal string, dates ISO 8601). The same
value always yields the same bytes, so a leaf hash can be recomputed by anyone.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

_SCALARS = (str, int, bool, type(None))


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return instant_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        raise ValueError("NaN in a ledger payload")
    return value


def instant_text(value: dt.datetime) -> str:
    """UTC, ISO 8601, ``Z`` suffix: one spelling for one instant."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a ledger payload")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """The JSON-ready form of ``value`` (what is hashed and what replay reads back)."""
    return _plain(value)


_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_bytes(value: Any) -> bytes:
    return _encoder.encode(_plain(value)).encode("utf-8")


def canonical_text_of_plain(value: Any) -> str:
    """Canonical text of a value already in plain form (skips the conversion pass)."""
    return _encoder.encode(value)
