"""ISO 8601 durations in words (issue 11, item 5): "6 years", not "P6Y"."""

from __future__ import annotations

import pytest
from django.utils import translation

from habeas.web.templatetags.habeas_web import duration


@pytest.mark.parametrize(
    ("value", "en", "es"),
    [
        ("P6Y", "6 years", "6 años"),
        ("P1Y", "1 year", "1 año"),
        ("P1Y6M", "1 year and 6 months", "1 año y 6 meses"),
        ("P2Y1M10D", "2 years, 1 month and 10 days", "2 años, 1 mes y 10 días"),
        ("P3W", "3 weeks", "3 semanas"),
        ("life", "life", "perpetua"),
        ("", "", ""),
        ("P", "P", "P"),
        ("6 years", "6 years", "6 years"),
    ],
)
def test_durations_in_words(value: str, en: str, es: str) -> None:
    with translation.override("en"):
        assert duration(value) == en
    with translation.override("es"):
        assert duration(value) == es
