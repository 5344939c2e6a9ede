"""The shared kernel of the one rule (ARCHITECTURE.md): ``@service`` runs in one transaction and
marks the context the save guard checks; canonical JSON is the exact, reproducible bytes the
ledger hashes."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.core.canonical import canonical_bytes, plain
from habeas.core.services import WriteOutsideService, in_service, service
from habeas.ledger.models import LedgerEntry
from habeas.ledger.services import ledger_append, ledger_size

# --- @service and the context flag ---------------------------------------------------------------


@pytest.mark.django_db
def test_service_runs_in_a_transaction_and_marks_the_context() -> None:
    seen: dict[str, bool] = {}

    @service
    def probe() -> None:
        seen["in_service"] = in_service()
        seen["atomic"] = connection.in_atomic_block

    assert not in_service()
    probe()
    assert seen == {"in_service": True, "atomic": True}
    assert not in_service()


@pytest.mark.django_db
def test_flag_is_reset_after_a_failing_service() -> None:
    @service
    def failing() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    assert not in_service()


@pytest.mark.django_db
def test_nested_service_joins_the_outer_transaction_and_rolls_back_with_it() -> None:
    actor = Actor(name="test")

    @service
    def inner(n: int) -> None:
        ledger_append(actor=actor, action="test.inner", subject=str(n), payload={})

    @service
    def outer() -> None:
        inner(1)
        inner(2)
        assert ledger_size() == 2
        raise RuntimeError("outer fails after its inner services succeeded")

    with pytest.raises(RuntimeError):
        outer()
    assert ledger_size() == 0
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_caught_inner_failure_rolls_back_only_the_inner_service() -> None:
    actor = Actor(name="test")

    @service
    def inner_failing() -> None:
        ledger_append(actor=actor, action="test.inner", subject="x", payload={})
        raise ValueError("refused")

    @service
    def outer() -> None:
        ledger_append(actor=actor, action="test.outer", subject="a", payload={})
        with pytest.raises(ValueError):
            inner_failing()
        ledger_append(actor=actor, action="test.outer", subject="b", payload={})

    outer()
    assert list(LedgerEntry.objects.values_list("index", "subject")) == [(0, "a"), (1, "b")]


@pytest.mark.django_db
def test_guard_applies_again_after_the_service_returns(world: dict[str, Any]) -> None:
    facility = world["tec"]
    service(facility.save)()
    with pytest.raises(WriteOutsideService):
        facility.save()


# --- canonical JSON --------------------------------------------------------------------------------


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    value = {"b": 1, "a": [True, None, "ñ"], "c": {"z": 1, "y": 2}}
    assert canonical_bytes(value) == '{"a":[true,null,"ñ"],"b":1,"c":{"y":2,"z":1}}'.encode()


def test_canonical_forms_of_decimals_dates_times_tuples_and_keys() -> None:
    at = dt.datetime(2025, 3, 16, 8, 5, 30, 123000, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    value = {
        1: Decimal("54.790"),
        "day": dt.date(2025, 3, 1),
        "at": at,
        "pair": (1, 2),
    }
    assert plain(value) == {
        "1": "54.790",
        "day": "2025-03-01",
        "at": "2025-03-16T14:05:30.123000Z",
        "pair": [1, 2],
    }
    # The same instant in another zone gives the same bytes.
    assert canonical_bytes({"at": at}) == canonical_bytes({"at": at.astimezone(dt.UTC)})


@pytest.mark.parametrize(
    "bad",
    [
        {"x": dt.datetime(2025, 1, 1)},
        {"x": math.nan},
        {"x": math.inf},
        {"x": [float("-inf")]},
    ],
)
def test_canonical_refuses_naive_times_and_non_finite_numbers(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        canonical_bytes(bad)


def test_control_characters_are_escaped() -> None:
    assert canonical_bytes({"x": "a\x00b\n"}) == b'{"x":"a\\u0000b\\n"}'


def test_actor_names() -> None:
    assert Actor.system("import").ledger_name == "system:import"
    assert Actor.cli().ledger_name.startswith("cli:")
    assert Actor(name="ana", role="auditor").ledger_name == "ana"


_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"]))
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.dates()
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.floats(allow_nan=False, allow_infinity=False)
)
_PAYLOAD = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(_PAYLOAD)
def test_fast_canonical_path_equals_the_checked_path(value: Any) -> None:
    """orjson walking the value gives the same bytes as converting first, then encoding,
    and both equal the standard library's sorted, compact, UTF-8 JSON of the plain value."""
    from habeas.core.canonical import canonical_bytes_of_plain, plain

    expected = canonical_bytes_of_plain(plain(value))
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize("bad", [{"a": None, "b": math.nan}, [None, [math.inf]]])
def test_non_finite_floats_next_to_nulls_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="NaN or infinity"):
        canonical_bytes(bad)


_NESTED = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=3)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=15,
)


def _non_finite_reference(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite_reference(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_non_finite_reference(v) for v in value)
    return False


@settings(max_examples=300, deadline=None)
@given(_NESTED)
def test_non_finite_scan_matches_its_definition(value: Any) -> None:
    """The container-at-a-time scan finds a NaN or infinity wherever the item-by-item
    definition does (the check behind every payload whose JSON holds a ``null``)."""
    from habeas.core.canonical import _has_non_finite

    assert _has_non_finite(value) is _non_finite_reference(value)
