"""Canonical JSON: the exact bytes the ledger hashes.

Keys sorted, no insignificant whitespace, UTF-8, no NaN/Infinity; decimals and dates become
strings before encoding (HOUSE-STYLE: money is a decimal string, dates ISO 8601). The same
value always yields the same bytes, so a leaf hash can be recomputed by anyone.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from collections.abc import Sequence
from decimal import Decimal
from itertools import repeat
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


#: Memo of :func:`_utc_text`, ``(value, fold, exact) → text``, emptied when it reaches
#: ``_TEXTS_MAX`` (a dict rather than ``lru_cache`` so that :func:`instant_texts` can fill it
#: for the payload times that repeat an event's time).
_TEXTS: dict[tuple[dt.datetime, int, bool], str] = {}
_TEXTS_MAX = 8192


def _utc_text(value: dt.datetime, fold: int, exact: bool) -> str:
    # fold is part of the key: aware times of one zone that differ only in fold compare (and
    # hash) equal although they are different instants; subclasses are kept apart.
    key = (value, fold, exact)
    text = _TEXTS.get(key)
    if text is None:
        text = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[key] = text
    return text


_to_utc = operator.methodcaller("astimezone", dt.UTC)
_tzinfo = operator.attrgetter("tzinfo")
_fold = operator.attrgetter("fold")


def instant_texts(values: Sequence[dt.datetime]) -> list[str]:
    """``[instant_text(v) for v in values]``: for a batch of plain aware datetimes, converted
    to UTC and written by orjson (``OPT_UTC_Z``: the same ``…T…[.ffffff]Z`` as
    ``isoformat``, checked by property test) in C-level passes, and remembered for the
    payloads' own times; anything else one by one."""
    if not values:
        return []
    if set(map(type, values)) == {dt.datetime} and None not in map(_tzinfo, values):
        written = orjson.dumps(list(map(_to_utc, values)), option=orjson.OPT_UTC_Z).decode()
        texts = written[2:-2].split('","')
        if len(texts) == len(values):
            if len(_TEXTS) + len(values) > _TEXTS_MAX:
                _TEXTS.clear()
            _TEXTS.update(zip(zip(values, map(_fold, values), repeat(True)), texts, strict=True))
            return texts
    return [instant_text(value) for value in values]


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


_encode = functools.partial(orjson.dumps, default=_default, option=_OPTIONS)


def canonical_bytes_many(values: Sequence[Any]) -> list[bytes]:
    """``[canonical_bytes(v) for v in values]``, the same bytes and the same error (the first
    value at fault, in order), with the encoder mapped over the values in C rather than
    called from a Python loop (the ledger's bulk append encodes a thousand documents per
    batch). A value orjson refuses sends the whole batch through :func:`canonical_bytes`;
    only the outputs holding a ``null`` are scanned for non-finite floats."""
    try:
        datas = list(map(_encode, values))
    except (orjson.JSONEncodeError, TypeError):
        return [canonical_bytes(value) for value in values]
    if True in map(bytes.__contains__, datas, repeat(b"null")):
        for value, data in zip(values, datas, strict=True):
            if b"null" in data and _has_non_finite(value):
                raise ValueError("NaN or infinity in a ledger payload")
    return datas


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
