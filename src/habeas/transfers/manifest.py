"""Reading a transfer manifest (shared/spec/MANIFEST.md, format v1).

Two passes over the bytes, both streamed:

1. :func:`check_file` — is this a manifest at all? UTF-8 (with or without BOM), CSV (RFC 4180)
   or JSON (a list of objects or ``{"entries": [...]}``), the required columns and no unknown
   ones, unique ``sending_ref``, no more rows than the limit. Every problem is collected with
   its row and column, and a single problem refuses the whole file (:class:`ManifestRefused`):
   nothing is stored.
2. :func:`iter_rows` — the rows again, one at a time, each validated by :func:`validate_row`
   (pydantic) into a :class:`ParsedRow` or a list of ``(column, message)`` problems; a row
   with problems is decided ``ineligible`` with a failing ``valid:<column>`` rule.

Only one row is held at a time (plus the set of references), so a 100,000-row manifest reads
in bounded memory. JSON is decoded object by object with ``JSONDecoder.raw_decode``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import phonenumbers
import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from habeas.core.errors import ValidationFailed
from habeas.core.limits import (
    MAX_ALIASES,
    MAX_CREDIT_DAYS,
    MAX_KEEP_APART,
    MAX_SENTENCE_YEARS,
    MIN_BIRTH,
    MSG_UNSAFE_TEXT,
    check_date,
    check_name,
    is_ascii_digits,
    unsafe_text,
)
from habeas.custody.sentences import parse_sentence

REQUIRED = (
    "sending_ref",
    "given_names",
    "first_surname",
    "date_of_birth",
    "sex",
    "nationalities",
    "status_in_sending_state",
    "legal_basis",
)
OPTIONAL = (
    "second_surname",
    "aliases",
    "removal_order_ref",
    "removal_order_date",
    "removal_protection",
    "offence",
    "conviction_date",
    "judgment_final",
    "sentence",
    "sentence_start",
    "custody_credit_days",
    "consent",
    "keep_apart_from",
    "language",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "contact_email",
)
COLUMNS = REQUIRED + OPTIONAL
_KNOWN = frozenset(COLUMNS)
MULTI = frozenset({"aliases", "nationalities", "legal_basis", "keep_apart_from"})
MAX_REF = 64
#: A cell longer than this refuses the whole file: no column needs it (names are at most
#: 200 characters, aliases 20 of them), and a hostile file must cost bounded work.
MAX_CELL_CHARS = 5000

#: Defaults of the configurable limits (settings ``HABEAS_MANIFEST_MAX_ROWS`` and
#: ``HABEAS_MANIFEST_MAX_BYTES``).
DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

MSG_REFUSED = "the file is not a valid transfer manifest (MANIFEST.md): {n} problem(s)"

#: The citation of each column's ``valid:<column>`` rule where a standard says more than the
#: format (plausible values; docs/interfaces.md, "Limits"); other columns cite MANIFEST.md.
CITATIONS: dict[str, str] = {
    "given_names": "Mandela Rule 7(a); MANIFEST.md v1, names ≤ 200 characters and 10 words",
    "first_surname": "Mandela Rule 7(a); MANIFEST.md v1, names ≤ 200 characters and 10 words",
    "second_surname": "Mandela Rule 7(a); MANIFEST.md v1, names ≤ 200 characters and 10 words",
    "aliases": "Mandela Rule 7(a); MANIFEST.md v1, at most 20 aliases",
    "date_of_birth": "Mandela Rule 7(a): a date of birth from 1900 to today",
    "conviction_date": "ETS 112 art. 3(1)(b): a judgment already given",
    "sentence": "Mandela Rule 7(b); a term of at most 150 years (longer: life)",
    "custody_credit_days": "18 U.S.C. § 3585(b): at most 150 years of credit",
    "keep_apart_from": "Mandela Rule 11: keep-apart is between two people",
    "contact_name": "Mandela Rule 7(g); MANIFEST.md v1, names ≤ 200 characters",
    "contact_email": "Mandela Rule 7(g); RFC 5322 address syntax",
    "contact_phone": "Mandela Rule 7(g); ITU-T E.164",
}


def max_rows() -> int:
    return int(getattr(settings, "HABEAS_MANIFEST_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_bytes() -> int:
    return int(getattr(settings, "HABEAS_MANIFEST_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class Problem:
    """Where a file is at fault: ``row`` 0 is the file or its header; data rows count from 1."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        return f"{where}, column {self.column or '-'}: {self.message}"


class ManifestRefused(ValidationFailed):
    """The whole file is refused (CLI exit 2, API 400) with every problem listed."""

    def __init__(self, problems: list[Problem], *, name: str = "") -> None:
        self.problems = problems
        super().__init__(
            MSG_REFUSED.format(n=len(problems)),
            code="manifest_refused",
            details={
                "file": name,
                "problems": [
                    {"row": p.row, "column": p.column, "message": p.message} for p in problems
                ],
            },
        )


# --- the source ----------------------------------------------------------------------------


class Source:
    """The manifest's bytes: a path, bytes, or a seekable binary file (an upload)."""

    def __init__(self, data: bytes | Path | IO[bytes], *, name: str = "") -> None:
        self._data = data
        self.name = name or (data.name if isinstance(data, Path) else "")

    def open(self) -> IO[bytes]:
        if isinstance(self._data, bytes):
            return io.BytesIO(self._data)
        if isinstance(self._data, Path):
            return self._data.open("rb")
        self._data.seek(0)
        return self._data

    def close(self, fh: IO[bytes]) -> None:
        if isinstance(self._data, Path):
            fh.close()

    def sha256_and_size(self) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        fh = self.open()
        try:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        finally:
            self.close(fh)
        return digest.hexdigest(), size

    def detect_format(self) -> str:
        fh = self.open()
        try:
            head = fh.read(4096)
        finally:
            self.close(fh)
        text = head.removeprefix(codecs.BOM_UTF8).lstrip()
        if text[:1] in {b"[", b"{"}:
            return "json"
        return "csv"


# --- raw rows -----------------------------------------------------------------------------


def _csv_rows(fh: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    """``(row number, fields)``; row 0 is the header. Lines are decoded one by one so a byte
    that is not UTF-8 is reported on its own line."""

    def lines() -> Iterator[str]:
        for number, raw in enumerate(fh, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotUtf8(number) from None

    reader = csv.reader(lines(), strict=True)
    yield from enumerate(reader)


class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _json_objects(fh: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """``(row number, object)`` from a JSON list or ``{"entries": [...]}``, one object at a
    time (the text is held, the decoded objects are not)."""
    raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _NotUtf8(line) from None
    del raw
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    pos = len(text) - len(text.lstrip(ws))
    if text.startswith("{", pos):
        pos += 1
        pos = _skip(text, pos, ws)
        key, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos, ws)
        if key != "entries" or not text.startswith(":", pos):
            raise json.JSONDecodeError('expected {"entries": [...]}', text, pos)
        pos = _skip(text, pos + 1, ws)
        wrapped = True
    else:
        wrapped = False
    if not text.startswith("[", pos):
        raise json.JSONDecodeError("expected a list of entries", text, pos)
    pos = _skip(text, pos + 1, ws)
    row = 0
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            obj, pos = decoder.raw_decode(text, pos)
            row += 1
            yield row, obj
            pos = _skip(text, pos, ws)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1, ws)
                continue
            if text.startswith("]", pos):
                pos += 1
                break
            raise json.JSONDecodeError("expected ',' or ']'", text, pos)
    pos = _skip(text, pos, ws)
    if wrapped:
        if not text.startswith("}", pos):
            raise json.JSONDecodeError('only "entries" may be given', text, pos)
        pos = _skip(text, pos + 1, ws)
    if pos != len(text):
        raise json.JSONDecodeError("extra data after the manifest", text, pos)


def _skip(text: str, pos: int, ws: str) -> int:
    while pos < len(text) and text[pos] in ws:
        pos += 1
    return pos


def _cell(value: Any) -> str:
    """A JSON value as the CSV cell it stands for (lists joined with ``;``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if any(isinstance(v, list | dict) for v in value):
            raise TypeError("a list inside a list is not a value")
        return ";".join(_cell(v) for v in value)
    if isinstance(value, dict):
        raise TypeError("an object is not a value")
    return str(value)


def raw_rows(source: Source, fmt: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Every data row as ``{column: text}``; file-level faults raise :class:`ManifestRefused`."""
    fh = source.open()
    try:
        if fmt == "json":
            yield from _raw_json(fh, source.name)
        else:
            yield from _raw_csv(fh, source.name)
    finally:
        source.close(fh)


def _raw_csv(fh: IO[bytes], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    header: list[str] = []
    try:
        for index, fields in _csv_rows(fh):
            if index == 0:
                header = [h.strip() for h in fields]
                problems = _header_problems(header)
                if problems:
                    raise ManifestRefused(problems, name=name)
                continue
            if not any(f.strip() for f in fields):
                continue  # a blank line
            if len(fields) != len(header):
                raise ManifestRefused(
                    [
                        Problem(
                            index,
                            "",
                            f"{len(fields)} fields where the header has {len(header)}",
                        )
                    ],
                    name=name,
                )
            yield index, dict(zip(header, fields, strict=True))
    except _NotUtf8 as exc:
        raise ManifestRefused(
            [Problem(exc.line, "", f"the file is not UTF-8 text (line {exc.line})")], name=name
        ) from None
    except csv.Error as exc:
        raise ManifestRefused([Problem(0, "", f"not RFC 4180 CSV: {exc}")], name=name) from None
    if not header:
        raise ManifestRefused([Problem(0, "", "the file is empty")], name=name)


def _raw_json(fh: IO[bytes], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        for row, obj in _json_objects(fh):
            if not isinstance(obj, dict):
                raise ManifestRefused(
                    [Problem(row, "", "an entry must be a JSON object")], name=name
                )
            try:
                yield row, {str(k): _cell(v) for k, v in obj.items()}
            except TypeError:
                raise ManifestRefused(
                    [Problem(row, "", "values must be text, numbers, booleans or flat lists")],
                    name=name,
                ) from None
    except _NotUtf8 as exc:
        raise ManifestRefused(
            [Problem(exc.line, "", f"the file is not UTF-8 text (line {exc.line})")], name=name
        ) from None
    except json.JSONDecodeError as exc:
        raise ManifestRefused(
            [Problem(0, "", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")],
            name=name,
        ) from None
    except RecursionError:
        raise ManifestRefused(
            [Problem(0, "", "not a manifest: JSON nested too deeply")], name=name
        ) from None
    except ValueError as exc:  # a number of thousands of digits (Python's int limit)
        raise ManifestRefused([Problem(0, "", f"not a manifest: {exc}")], name=name) from None


def _cell_problems(row: int, data: dict[str, str]) -> list[Problem]:
    """Cells no row may hold: a NUL, a control character or a lone surrogate (no database
    stores them as text), or more than :data:`MAX_CELL_CHARS` characters."""
    found = []
    for column, value in data.items():
        if unsafe_text(value) or unsafe_text(column):
            found.append(Problem(row, column[:64], MSG_UNSAFE_TEXT))
        elif len(value) > MAX_CELL_CHARS:
            found.append(Problem(row, column[:64], f"longer than {MAX_CELL_CHARS} characters"))
    return found


def _header_problems(header: list[str]) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for column in header:
        if column in seen:
            problems.append(Problem(0, column, "column given twice"))
        seen.add(column)
        if column not in COLUMNS:
            problems.append(Problem(0, column[:64], "unknown column"))
    for column in REQUIRED:
        if column not in seen:
            problems.append(Problem(0, column, "required column missing"))
    return problems


@dataclass
class FileCheck:
    """What the first pass learned."""

    sha256: str
    size: int
    fmt: str
    rows: int
    refs: set[str] = field(default_factory=set)


def check_file(source: Source, *, limit_rows: int | None = None) -> FileCheck:
    """First pass: every file-level problem, or a :class:`FileCheck`."""
    limit = limit_rows if limit_rows is not None else max_rows()
    sha, size = source.sha256_and_size()
    if size > max_bytes():
        raise ManifestRefused(
            [Problem(0, "", f"the file is {size} bytes; the limit is {max_bytes()}")],
            name=source.name,
        )
    fmt = source.detect_format()
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    count = 0
    json_columns_checked = fmt == "csv"
    for row, data in raw_rows(source, fmt):
        count += 1
        if count > limit:
            problems.append(Problem(row, "", f"more than {limit} rows (the configured limit)"))
            break
        if not json_columns_checked:
            for p in _header_problems(list(data)):
                if p.message != "required column missing":
                    problems.append(Problem(row, p.column, p.message))
        problems.extend(_cell_problems(row, data))
        ref = data.get("sending_ref", "").strip()
        if not ref:
            problems.append(Problem(row, "sending_ref", "required: every entry needs a reference"))
        elif len(ref) > MAX_REF:
            problems.append(Problem(row, "sending_ref", f"longer than {MAX_REF} characters"))
        elif ref in first_row:
            problems.append(
                Problem(row, "sending_ref", f"{ref!r} already given on row {first_row[ref]}")
            )
        else:
            first_row[ref] = row
        if len(problems) >= 1000:
            problems.append(Problem(row, "", "too many problems; stopped reading"))
            break
    if count == 0 and not problems:
        problems.append(Problem(0, "", "the manifest has no entries"))
    if problems:
        raise ManifestRefused(problems, name=source.name)
    return FileCheck(sha256=sha, size=size, fmt=fmt, rows=count, refs=set(first_row))


# --- row validation -----------------------------------------------------------------------


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` only (ISO 8601 calendar date); 30 February is refused."""
    value = text.strip()
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date that exists") from None


def parse_partial_date(text: str) -> tuple[dt.date, str]:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` with its precision."""
    value = text.strip()
    try:
        if len(value) == 4 and is_ascii_digits(value):
            return dt.date(int(value), 1, 1), "year"
        if (
            len(value) == 7
            and value[4] == "-"
            and is_ascii_digits(value[:4])
            and is_ascii_digits(value[5:])
        ):
            return dt.date(int(value[:4]), int(value[5:]), 1), "month"
    except ValueError:
        raise ValueError(f"{text!r} is not a date that exists") from None
    return parse_date(value), "day"


def check_birth(value: dt.date) -> dt.date:
    """A plausible date of birth: from :data:`~habeas.core.limits.MIN_BIRTH` (1900) to today
    (Mandela Rule 7(a): an identity that can be true)."""
    if value > dt.date.today():  # noqa: DTZ011 - a calendar date
        raise ValueError("in the future")
    if value < MIN_BIRTH:
        raise ValueError(f"before {MIN_BIRTH.year}: not a plausible date of birth")
    return value


def e164(text: str) -> str:
    """A telephone number in E.164 (``+50312345678``), read by ``phonenumbers``; it must be
    written with its country code (``+``) and be a valid number of that country."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a telephone number with its country code") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid telephone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=4096)
def country_code(text: str) -> str:
    """ISO 3166-1 alpha-2 or alpha-3 to alpha-2 (pycountry); ``XX`` and the like refused.
    (Cached: a manifest names a few countries thousands of times; a refusal is not cached.)"""
    value = text.strip().upper()
    found = None
    if len(value) == 2:
        found = pycountry.countries.get(alpha_2=value)
    elif len(value) == 3:
        found = pycountry.countries.get(alpha_3=value)
    if found is None:
        raise ValueError(f"{text!r} is not an ISO 3166-1 country code")
    return str(found.alpha_2)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


_YES_NO = {"yes": True, "no": False}


@lru_cache(maxsize=1024)
def _sentence_text(value: str) -> str:
    """A sentence as stored (``P5Y``, ``life``), or the ValueError naming the problem
    (cached: a manifest repeats a few lengths thousands of times)."""
    if value:
        parse_sentence(value)
        return "life" if value.lower() == "life" else value.upper()
    return ""


@lru_cache(maxsize=1024)
def _is_language(code: str) -> bool:
    return pycountry.languages.get(alpha_2=code) is not None


class ParsedRow(BaseModel):
    """One manifest row, typed (pydantic v2). Empty cells are "not given"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sending_ref: str
    given_names: str
    first_surname: str
    second_surname: str = ""
    aliases: tuple[str, ...] = ()
    date_of_birth: tuple[dt.date, str]
    sex: str
    nationalities: tuple[str, ...]
    status_in_sending_state: str
    legal_basis: tuple[str, ...]
    removal_order_ref: str = ""
    removal_order_date: dt.date | None = None
    removal_protection: bool = False
    offence: str = ""
    conviction_date: dt.date | None = None
    judgment_final: bool | None = None
    sentence: str = ""
    sentence_start: dt.date | None = None
    custody_credit_days: int = 0
    consent: str = "unknown"
    keep_apart_from: tuple[str, ...] = ()
    language: str = ""
    contact_name: str = ""
    contact_relation: str = ""
    contact_phone: str = ""
    contact_email: str = ""

    @field_validator("sending_ref", "given_names", "first_surname", mode="before")
    @classmethod
    def _required_text(cls, v: Any) -> str:
        if not str(v).strip():
            raise ValueError("required")
        return str(v).strip()

    @field_validator("given_names", "first_surname", "second_surname", "contact_name")
    @classmethod
    def _name(cls, v: str) -> str:
        """Mandela Rule 7(a): a name, bounded (docs/interfaces.md, "Limits")."""
        return check_name(v)

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v: Any) -> tuple[str, ...]:
        names = _split(str(v))
        if len(names) > MAX_ALIASES:
            raise ValueError(f"{len(names)} aliases; at most {MAX_ALIASES}")
        return tuple(check_name(n) for n in names)

    @field_validator("keep_apart_from", mode="before")
    @classmethod
    def _list(cls, v: Any) -> tuple[str, ...]:
        refs = _split(str(v))
        if len(refs) > MAX_KEEP_APART:
            raise ValueError(f"{len(refs)} references; at most {MAX_KEEP_APART}")
        return tuple(refs)

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _dob(cls, v: Any) -> tuple[dt.date, str]:
        if not str(v).strip():
            raise ValueError("required")
        value, precision = parse_partial_date(str(v))
        check_birth(value)
        return value, precision

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v: Any) -> str:
        value = str(v).strip().upper()
        if value not in {"M", "F", "X"}:
            raise ValueError(f"{v!r} is not M, F or X")
        return value

    @field_validator("nationalities", mode="before")
    @classmethod
    def _countries(cls, v: Any) -> tuple[str, ...]:
        codes = _split(str(v))
        if not codes:
            raise ValueError("required")
        return tuple(dict.fromkeys(country_code(c) for c in codes))

    @field_validator("status_in_sending_state", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        value = str(v).strip().lower()
        if value not in {"citizen", "permanent_resident", "other"}:
            raise ValueError(f"{v!r} is not citizen, permanent_resident or other")
        return value

    @field_validator("legal_basis", mode="before")
    @classmethod
    def _bases(cls, v: Any) -> tuple[str, ...]:
        kinds = [k.lower() for k in _split(str(v))]
        if not kinds:
            raise ValueError("required: removal_order, criminal_sentence, or both")
        for k in kinds:
            if k not in {"removal_order", "criminal_sentence"}:
                raise ValueError(f"{k!r} is not removal_order or criminal_sentence")
        return tuple(dict.fromkeys(kinds))

    @field_validator("removal_order_date", "conviction_date", "sentence_start", mode="before")
    @classmethod
    def _date(cls, v: Any) -> dt.date | None:
        return check_date(parse_date(str(v))) if str(v).strip() else None

    @field_validator("conviction_date")
    @classmethod
    def _conviction(cls, v: dt.date | None) -> dt.date | None:
        """ETS 112 art. 3(1)(b): a judgment that was given, so not dated in the future."""
        if v is not None and v > dt.date.today():  # noqa: DTZ011 - a calendar date
            raise ValueError("in the future: a conviction is a judgment already given")
        return v

    @field_validator("contact_email", mode="before")
    @classmethod
    def _email(cls, v: Any) -> str:
        """Mandela Rule 7(g): a contact that can be reached (RFC 5322 address syntax)."""
        value = str(v).strip()
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValueError(f"{v!r} is not an e-mail address") from None
        return value

    @field_validator("contact_phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> str:
        """Mandela Rule 7(g): a number that can be dialled, stored in E.164 (ITU-T E.164,
        ``+`` and the country code)."""
        value = str(v).strip()
        return e164(value) if value else ""

    @field_validator("removal_protection", mode="before")
    @classmethod
    def _protection(cls, v: Any) -> bool:
        value = str(v).strip().lower()
        if value in {"", "no"}:
            return False
        if value == "yes":
            return True
        raise ValueError(f"{v!r} is not yes or no")

    @field_validator("judgment_final", mode="before")
    @classmethod
    def _final(cls, v: Any) -> bool | None:
        value = str(v).strip().lower()
        if not value:
            return None
        if value not in _YES_NO:
            raise ValueError(f"{v!r} is not yes or no")
        return _YES_NO[value]

    @field_validator("sentence", mode="before")
    @classmethod
    def _sentence(cls, v: Any) -> str:
        return _sentence_text(str(v).strip())

    @field_validator("custody_credit_days", mode="before")
    @classmethod
    def _credit(cls, v: Any) -> int:
        value = str(v).strip()
        if not value:
            return 0
        if not is_ascii_digits(value.lstrip("-")) or len(value) > 12:
            raise ValueError(f"{v!r} is not a whole number of days")
        days = int(value)
        if days < 0:
            raise ValueError("custody credit cannot be negative")
        if days > MAX_CREDIT_DAYS:
            raise ValueError(f"{days} days is more than {MAX_SENTENCE_YEARS} years")
        return days

    @model_validator(mode="after")
    def _not_kept_apart_from_self(self) -> ParsedRow:
        """Mandela Rule 11 (separation): keep-apart is between two people; a row naming its
        own ``sending_ref`` is an error in the file, not a rule to apply."""
        if self.sending_ref in self.keep_apart_from:
            raise ValueError("keep_apart_from: names the person themselves")
        return self

    @field_validator("consent", mode="before")
    @classmethod
    def _consent(cls, v: Any) -> str:
        value = str(v).strip().lower() or "unknown"
        if value not in {"yes", "no", "unknown"}:
            raise ValueError(f"{v!r} is not yes, no or unknown")
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v: Any) -> str:
        value = str(v).strip().lower()
        if value and not _is_language(value):
            raise ValueError(f"{v!r} is not an ISO 639-1 language code")
        return value

    @property
    def has_removal_order(self) -> bool:
        return "removal_order" in self.legal_basis

    @property
    def has_sentence(self) -> bool:
        return "criminal_sentence" in self.legal_basis


_NEEDS = {
    "removal_order": ("removal_order_ref", "removal_order_date"),
    "criminal_sentence": (
        "offence",
        "conviction_date",
        "judgment_final",
        "sentence",
        "sentence_start",
    ),
}


def validate_row(data: dict[str, str]) -> tuple[ParsedRow | None, list[tuple[str, str]]]:
    """The typed row, and every ``(column, message)`` wrong with it. A row with type errors
    has no :class:`ParsedRow`; a semantically void one (a removal order for a citizen) has
    both, so the eligibility rules can still explain themselves."""
    given = {
        k: v
        for k, v in data.items()
        if k in _KNOWN and (v if type(v) is str else str(v)).strip()  # said something
    }
    for column in REQUIRED:
        given.setdefault(column, "")
    problems: list[tuple[str, str]] = []
    parsed: ParsedRow | None = None
    try:
        parsed = ParsedRow.model_validate(given)
    except ValidationError as exc:
        for error in exc.errors():
            column = str(error["loc"][0]) if error["loc"] else "row"
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            if column == "row" and ": " in message:  # a check across columns names its own
                column, message = message.split(": ", 1)
            problems.append((column, message))
    kinds = set(_split(data.get("legal_basis", "").lower()))
    for kind, columns in _NEEDS.items():
        if kind in kinds:
            for column in columns:
                if not str(data.get(column, "")).strip():
                    problems.append((column, f"required with {kind}"))
    if parsed is not None and problems:
        parsed = None
    if (
        parsed is not None
        and parsed.has_removal_order
        and parsed.status_in_sending_state == "citizen"
    ):
        problems.append(
            (
                "legal_basis",
                "a removal order for a citizen of the sending state is void: a state "
                "cannot deport its own citizens",
            )
        )
    return parsed, problems
