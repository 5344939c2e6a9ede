"""Pieces every app's API router shares (INTERFACES.md: one error document, stable JSON).

* :class:`ErrorOut` — the ONE error document for 400/401/403/404/409/422:
  ``{"code": "...", "message": "...", "details": {...}}`` (``habeas.api`` maps every refusal
  to it); :func:`errors` declares it in an operation's OpenAPI responses.
* :class:`Pagination` — ``?limit=&offset=`` giving ``{"items": [...], "count": N}``.
* ``IdStr``/``DecimalStr``/``InstantStr``/``DateStr`` and :func:`id_str`, :func:`decimal_str`,
  :func:`instant_str`, :func:`date_str` — identifiers, money and dates are strings in every
  document (INTERFACES.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import orjson
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser
from pydantic import AfterValidator, AwareDatetime, WithJsonSchema

from habeas.core.canonical import plain
from habeas.core.limits import (
    MAX_OFFSET,
    check_date,
    check_instant,
    check_name,
    check_text,
    unsafe_text,
)

#: Field types of the JSON documents (INTERFACES.md): identifiers, money, instants and dates
#: travel as strings; instants in UTC with ``Z``, exactly as ``--json`` CLI output has them.
IdStr = Annotated[str, WithJsonSchema({"type": "string", "examples": ["42"]})]
DecimalStr = Annotated[str, WithJsonSchema({"type": "string", "format": "decimal"})]
InstantStr = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
DateStr = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class ErrorOut(Schema):
    """Every error the API returns. ``code`` is stable and machine-readable (``invalid``,
    ``unauthenticated``, ``forbidden``, ``not_found``, ``conflict``…); ``message`` is for
    people and may be translated; ``details`` names the fields or values at fault."""

    code: str = Field(..., examples=["not_found"])
    message: str = Field(..., examples=["person not found"])
    details: dict[str, Any] = Field(default_factory=dict)


#: Default ``code`` for an HTTP status when the exception does not carry one.
STATUS_CODES: dict[int, str] = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "unprocessable",
    429: "throttled",
}

#: What an authenticated read can answer besides 200.
READ_ERRORS = (400, 401, 403, 404)


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """``response={200: X, **errors(401, 403)}``: document the error document per status."""
    return dict.fromkeys(statuses or READ_ERRORS, ErrorOut)


class Pagination(LimitOffsetPagination):
    """``limit`` (default 100, at most 500) and ``offset``; ``count`` is the number of rows
    the user may see, never more (out-of-scope rows do not leak through counts). Both are
    bounded (``core.limits.MAX_OFFSET``): a larger value is a 400, never a database overflow."""

    class Input(Schema):
        limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1, le=MAX_OFFSET)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=500, **kwargs)


# --- bounded input types (core.limits) ---------------------------------------------------

#: A calendar date within the configured plausible range (``HABEAS_DATE_MIN``/``_MAX``).
PlausibleDate = Annotated[dt.date, AfterValidator(check_date)]
#: An aware instant (with an offset) whose date is within the plausible range.
PlausibleInstant = Annotated[AwareDatetime, AfterValidator(check_instant)]
#: A name field: at most 200 characters and 10 words, no NUL or lone surrogate.
NameText = Annotated[str, AfterValidator(check_name)]
#: Any other text field: at most 2,000 characters, no NUL or lone surrogate.
SafeText = Annotated[str, AfterValidator(check_text)]


class BodyRefused(ValueError):
    """A JSON body that is not storable text (ninja answers 400, the error document)."""


def _storable(value: Any) -> None:
    """Refuse NUL, control characters and lone surrogates anywhere in a decoded body."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unsafe_text(item):
                raise BodyRefused("the body holds a NUL, a control character or a lone surrogate")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class StrictJsonParser(Parser):
    """JSON bodies read by orjson: strict UTF-8 (a lone surrogate is refused), nesting
    bounded by the decoder (a deeply nested body is refused, never a RecursionError), integers
    bounded to 64 bits; then no NUL or control character in any string. Every refusal is a 400
    in the API's error document."""

    def parse_body(self, request: HttpRequest) -> Any:
        value = orjson.loads(request.body)
        _storable(value)
        return value


def id_str(value: Any) -> str | None:
    return None if value is None else str(value)


def decimal_str(value: Decimal | None) -> str | None:
    """Money and rates as decimal strings (INTERFACES.md), never floats."""
    return None if value is None else str(value)


def instant_str(value: dt.datetime | None) -> str | None:
    """An aware instant as ISO 8601 UTC (``…Z``), the form ``core.canonical`` gives the CLI."""
    return None if value is None else str(plain(value))


def date_str(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()
