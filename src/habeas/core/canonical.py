"""Canonical JSON: the exact bytes the ledger hashes.

Keys sorted, no insignificant whitespace, UTF-8, no NaN/Infinity; decimals and dates become
strings before encoding (HOUSE-STYLE: money is a decimal string, dates ISO 8601). The same
value always yields the same bytes, so a leaf hash can be recomputed by anyone.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal
from typing import Any

import orjson

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
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN or infinity in a ledger payload")
    return value


def instant_text(value: dt.datetime) -> str:
    """UTC, ISO 8601, ``Z`` suffix: one spelling for one instant. Memoised: one event often
    writes one instant several times (occurred_at, admitted_at, started_at…)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a ledger payload")
    return _utc_text(value, value.fold, type(value) is dt.datetime)


@functools.lru_cache(maxsize=4096)
def _utc_text(value: dt.datetime, fold: int, exact: bool) -> str:
    # fold is part of the key: aware times of one zone that differ only in fold compare (and
    # hash) equal although they are different instants; subclasses are kept apart.
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """The JSON-ready form of ``value`` (what is hashed and what replay reads back)."""
    return _plain(value)


def canonical_bytes_of_plain(value: Any) -> bytes:
    """Canonical bytes of a value already in plain form (skips the conversion pass).

    orjson with sorted keys gives byte for byte what ``json.dumps(sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`` gives for JSON values (checked by property
    test), an order of magnitude faster: the ledger encodes every domain event."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:  # lone surrogate, NaN, int beyond 64 bits, …
        raise ValueError(f"not representable as canonical JSON: {exc}") from None


_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _default(value: Any) -> Any:
    if type(value) is dt.datetime:  # the common case first: a payload's aware instants
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledger payload")
        return _utc_text(value, value.fold, True)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return instant_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_bytes(value: Any) -> bytes:
    """Canonical bytes of any payload. orjson walks the value and calls back only for decimals
    and dates; it writes NaN and infinity as ``null``, so output with a ``null`` is scanned for
    non-finite floats, which are refused. Anything orjson refuses takes the checked path."""
    try:
        data = orjson.dumps(value, default=_default, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        # non-string keys, naive times, lone surrogates…: the checked path decides
        return canonical_bytes_of_plain(_plain(value))
    if b"null" in data and _has_non_finite(value):
        raise ValueError("NaN or infinity in a ledger payload")
    return data


_LEAF_TYPES = frozenset({str, int, bool, type(None)})


def _has_non_finite(value: Any) -> bool:
    """Whether a float NaN or infinity hides in ``value`` (orjson would have written null).
    Iterative, one loop over a stack of containers; a container whose values are all text,
    integers, booleans or nulls (most of them: rule outcomes, names, references) is passed
    over with one C-level ``set(map(type, …))``, not item by item (every payload holding a
    ``null`` is scanned: a bulk import's thousands of entries pay for it)."""
    stack = [value]
    pop = stack.pop
    push = stack.append
    isfinite = math.isfinite
    leaf = _LEAF_TYPES
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict or isinstance(item, dict):
            items: Any = item.values()
        elif kind is list or kind is tuple or isinstance(item, list | tuple):
            items = item
        elif isinstance(item, float):
            if not isfinite(item):
                return True
            continue
        else:
            continue
        if leaf.issuperset(map(type, items)):
            continue
        for element in items:
            if type(element) not in leaf:
                push(element)
    return False


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
