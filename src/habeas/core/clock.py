"""Aware time only (HOUSE-STYLE, ruff DTZ). One place to read the clock."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from habeas.core.limits import check_instant


def now() -> dt.datetime:
    return timezone.now()


def parse_instant(text: str) -> dt.datetime:
    """ISO 8601 with an offset (or Z). A naive time is refused: the ledger never guesses zones;
    so is one outside the plausible range (``core.limits.check_date``)."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset (e.g. 2025-03-16T14:05:00-06:00)")
    return check_instant(value)
