"""``check-custody`` compares each open episode's calculation inputs with its current
calculation by key (``inputs_sha``); the key is written directly for speed and must be the
key of the inputs document exactly, or every check would recalculate (and write) again."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from habeas.custody.calculations import _Pending
from habeas.custody.release import inputs_sha

bases = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10**12),
        st.one_of(
            st.sampled_from(["P10Y", "P18M", "P2Y6M", "P90D", "life", "P1Y"]),
            st.text(max_size=8),  # text JSON escapes takes the general path
        ),
        st.dates(min_value=dt.date(1900, 1, 1)).map(dt.date.isoformat),
        st.integers(min_value=0, max_value=5000),
        st.integers(min_value=0, max_value=500),
    ),
    max_size=4,
)


@given(
    rules=st.sampled_from(["us_federal", "plain", "some-future_rules.2", 'odd "rules"']),
    country=st.sampled_from(["SV", "us", "", "X\u00e9"]),
    bases=bases,
)
def test_the_direct_key_is_the_key_of_the_inputs_document(
    rules: str, country: str, bases: list[tuple[int, str, str, int, int]]
) -> None:
    pending = _Pending(rules, country, bases)
    assert pending.sha() == inputs_sha(pending.inputs())
