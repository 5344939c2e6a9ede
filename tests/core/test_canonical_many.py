"""``canonical_bytes_many`` is ``canonical_bytes`` mapped over a batch (the ledger's bulk
append): byte for byte the same output, and the same error for the first value at fault, for
any values: aware times in any zone or offset (seconds included, ``fold`` set), naive times,
dates, times, decimals, floats (NaN and infinity included), nested dicts and lists, tuples,
non-string keys and any text (lone surrogates included)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.canonical import (
    canonical_bytes,
    canonical_bytes_many,
    instant_text,
    instant_texts,
)

ZONES = [zoneinfo.ZoneInfo(name) for name in ("America/El_Salvador", "Europe/London", "UTC")]

offsets = st.one_of(
    st.just(dt.UTC),
    st.builds(
        dt.timezone,
        st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
    ),
    st.sampled_from(ZONES),
)
aware = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9998, 12, 30), timezones=offsets
).map(lambda value: value.replace(fold=1) if value.microsecond % 2 else value)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    aware,
    st.datetimes(),  # naive: refused
    st.dates(),
    st.times(),
)
keys = st.one_of(st.text(max_size=8), st.integers(-5, 5))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.text(max_size=8), values, max_size=5)


def outcome(encode: Any) -> tuple[str, Any]:
    try:
        return ("ok", encode())
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(documents, max_size=6))
def test_the_batch_encoder_gives_the_bytes_and_errors_of_the_one_value_encoder(
    batch: list[dict[str, Any]],
) -> None:
    assert outcome(lambda: canonical_bytes_many(batch)) == outcome(
        lambda: [canonical_bytes(value) for value in batch]
    )


@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(aware, min_size=1, max_size=8),
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
def test_payloads_of_local_times_encode_alike_one_by_one_and_in_a_batch(
    times: list[dt.datetime], amount: Decimal
) -> None:
    """The common shape of a bulk append: valid payloads with aware times of any zone."""
    batch = [{"at": at, "n": i, "amount": amount, "day": at.date()} for i, at in enumerate(times)]
    expected = [canonical_bytes(value) for value in batch]
    assert canonical_bytes_many(batch) == expected
    for value, data in zip(batch, expected, strict=True):
        text = value["at"].astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        assert f'"at":"{text}"'.encode() in data


@settings(max_examples=300, deadline=None)
@given(times=st.lists(st.one_of(aware, st.datetimes()), max_size=8))
def test_a_batch_of_times_is_written_as_one_by_one(times: list[dt.datetime]) -> None:
    """``instant_texts`` (the bulk append's event times, in C-level passes) gives what the
    definition gives for each: UTC, ``isoformat``, ``Z``; a naive time is refused alike."""

    def reference(value: dt.datetime) -> str:
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledger payload")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    assert outcome(lambda: instant_texts(times)) == outcome(
        lambda: [reference(value) for value in times]
    )
    if all(value.tzinfo is not None for value in times):
        # and the memo it fills serves the payloads' times with the same text
        assert [instant_text(value) for value in times] == [reference(v) for v in times]
