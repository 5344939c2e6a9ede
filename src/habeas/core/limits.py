"""Bounded work per request and plausible values (docs/interfaces.md, "Limits").

Every input that reaches a service, a query or the identity matcher is bounded here, once:
the length and word count of a name, the number of aliases, the offset of a list, the range
of a calendar date, the characters a text may hold. The limits that an operator may want to
change are settings (``HABEAS_DATE_MIN``, ``HABEAS_DATE_MAX``, ``HABEAS_MAX_UPLOAD_BYTES``,
``HABEAS_MAX_BODY_BYTES``; the manifest's row and byte limits live beside the manifest
reader); the others are contract (docs/interfaces.md) and constants.

Why: one request must never stall the service (a name of 10,000 words made matching run past
the worker's timeout), and a value no database can hold (a NUL byte on PostgreSQL, a lone
surrogate in UTF-8, the year 10000) must be refused at the door with a 4xx or exit 2, never
found by the database as a 500 after the work is done.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings

#: A name field (given names, a surname, an alias, a contact's name): characters and words.
MAX_NAME_CHARS = 200
MAX_NAME_WORDS = 10
#: Aliases of one person.
MAX_ALIASES = 20
#: ``keep_apart_from`` references of one person.
MAX_KEEP_APART = 50
#: Any other text of a request or a manifest cell (an offence, a reference, a note).
MAX_TEXT_CHARS = 2000
#: A list's ``offset``: past it nothing is listed anyway, and the database's own integer
#: would overflow at 2**63.
MAX_OFFSET = 1_000_000_000
#: A sentence no court gives as a term (longer is ``life``), and custody credit beyond it.
MAX_SENTENCE_YEARS = 150
MAX_CREDIT_DAYS = MAX_SENTENCE_YEARS * 366
#: The earliest date of birth that is plausible (issue 10: births from 1900 to today).
MIN_BIRTH = dt.date(1900, 1, 1)

DEFAULT_DATE_MIN = dt.date(1900, 1, 1)
DEFAULT_DATE_MAX = dt.date(2199, 12, 31)

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)
# NUL (PostgreSQL refuses it in text), the other C0 controls but tab, newline and carriage
# return, and UTF-16 surrogates (a lone one cannot be encoded as UTF-8).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

MSG_UNSAFE_TEXT = "holds a NUL, a control character or a lone surrogate"


def date_min() -> dt.date:
    return _setting_date("HABEAS_DATE_MIN", DEFAULT_DATE_MIN)


def date_max() -> dt.date:
    return _setting_date("HABEAS_DATE_MAX", DEFAULT_DATE_MAX)


def _setting_date(name: str, default: dt.date) -> dt.date:
    value = getattr(settings, name, None)
    if value is None:
        return default
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def check_date(value: dt.date) -> dt.date:
    """``value`` when within the configured plausible range, else a ValueError saying so."""
    low, high = date_min(), date_max()
    if not low <= value <= high:
        raise ValueError(
            f"{value.isoformat()} is outside the plausible range "
            f"{low.isoformat()} to {high.isoformat()}"
        )
    return value


def check_instant(value: dt.datetime) -> dt.datetime:
    """An instant whose calendar date is within the plausible range (:func:`check_date`)."""
    check_date(value.date())
    return value


def ascii_id(text: str) -> int | None:
    """A row id written in ASCII digits only (``"¹"`` and ``"١٢"`` are no ids: Python's
    ``int`` would read the second one), at most 18 of them (below 2**63), or ``None``."""
    return int(text) if _ASCII_DIGITS.fullmatch(text) else None


def is_ascii_digits(text: str) -> bool:
    """``text`` is ``0-9`` only, at least one (``str.isdigit`` also accepts ``"¹"``)."""
    return text.isascii() and text.isdigit()


def unsafe_text(text: str) -> bool:
    """``text`` holds a character no database of Habeas stores as text (see ``_UNSAFE``)."""
    return _UNSAFE.search(text) is not None


def check_text(text: str, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``text`` when storable and at most ``max_chars`` long, else a ValueError."""
    if unsafe_text(text):
        raise ValueError(MSG_UNSAFE_TEXT)
    if len(text) > max_chars:
        raise ValueError(f"longer than {max_chars} characters")
    return text


def check_name(text: str) -> str:
    """A name field: storable, at most :data:`MAX_NAME_CHARS` characters and
    :data:`MAX_NAME_WORDS` words (Mandela Rule 7(a): an identity, not a document)."""
    check_text(text, max_chars=MAX_NAME_CHARS)
    if len(text.split()) > MAX_NAME_WORDS:
        raise ValueError(f"more than {MAX_NAME_WORDS} words")
    return text


def max_upload_bytes() -> int:
    """The largest request body with a file (multipart), refused before it is read."""
    return int(getattr(settings, "HABEAS_MAX_UPLOAD_BYTES", 64 * 1024 * 1024))


def max_body_bytes() -> int:
    """The largest request body without a file (JSON, forms), refused before it is read."""
    return int(getattr(settings, "HABEAS_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
