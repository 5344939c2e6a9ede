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


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledger payload")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        raise ValueError("NaN in a ledger payload")
    return value


def plain(value: Any) -> Any:
    """The JSON-ready form of ``value`` (what is hashed and what replay reads back)."""
    return _plain(value)


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(
        _plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
