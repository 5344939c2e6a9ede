"""The setup file (INTERFACES.md, "Setup file (TOML)"), validated with pydantic.

Errors name the file, the table and the key: ``setup.toml: [[facility]] TEC → [[facility.module]]
M1 → cell_block.count: Input should be greater than 0``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from habeas.agreements.models import DEFAULT_RETENTION_DAYS
from habeas.core.errors import ValidationFailed

MSG_TOML = "{file}: not valid TOML: {error}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _country(code: str) -> str:
    value = code.strip().upper()
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return value


class JurisdictionDecl(_Strict):
    code: str
    name: str = Field(min_length=1)

    _code = field_validator("code")(_country)


def _check_capacities(working: int, maximum: int, sanitary: Decimal, floor: Decimal) -> None:
    if working > maximum:
        raise ValueError("working_capacity must not exceed max_capacity")
    if sanitary > floor:
        raise ValueError("sanitary_area_m2 must not exceed floor_area_m2")


class CellDecl(_Strict):
    code: str = Field(min_length=1, max_length=32)
    floor_area_m2: Decimal = Field(gt=0, max_digits=8, decimal_places=2)
    sanitary_area_m2: Decimal = Field(default=Decimal(0), ge=0, max_digits=8, decimal_places=2)
    height_m: Decimal | None = Field(default=None, gt=0, max_digits=5, decimal_places=2)
    bunks: int = Field(default=0, ge=0)
    max_capacity: int = Field(ge=0)
    working_capacity: int = Field(ge=0)
    window: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CellDecl:
        _check_capacities(
            self.working_capacity, self.max_capacity, self.sanitary_area_m2, self.floor_area_m2
        )
        return self


class CellBlockDecl(_Strict):
    count: int = Field(gt=0, le=10_000)
    prefix: str = Field(min_length=1, max_length=24)
    floor_area_m2: Decimal = Field(gt=0, max_digits=8, decimal_places=2)
    sanitary_area_m2: Decimal = Field(default=Decimal(0), ge=0, max_digits=8, decimal_places=2)
    height_m: Decimal | None = Field(default=None, gt=0, max_digits=5, decimal_places=2)
    bunks: int = Field(default=0, ge=0)
    max_capacity: int = Field(ge=0)
    working_capacity: int = Field(ge=0)
    window: bool = False
    start: int = Field(default=1, ge=0)
    digits: int = Field(default=2, ge=1, le=6)

    @model_validator(mode="after")
    def _consistent(self) -> CellBlockDecl:
        _check_capacities(
            self.working_capacity, self.max_capacity, self.sanitary_area_m2, self.floor_area_m2
        )
        return self

    def expand(self) -> list[CellDecl]:
        fields = self.model_dump(exclude={"count", "prefix", "start", "digits"})
        return [
            CellDecl(code=f"{self.prefix}{n:0{self.digits}d}", **fields)
            for n in range(self.start, self.start + self.count)
        ]


class ModuleDecl(_Strict):
    code: str = Field(min_length=1, max_length=32)
    population: Literal["adult_male", "adult_female", "youth_male", "youth_female"]
    regime: Literal["criminal", "civil"]
    cells: list[CellDecl] = Field(default_factory=list)
    cell_block: CellBlockDecl | None = None

    def all_cells(self) -> list[CellDecl]:
        return [*self.cells, *(self.cell_block.expand() if self.cell_block else [])]


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class VisitingSlotDecl(_Strict):
    """One weekly visiting slot (Mandela Rule 58(1): visits at regular intervals): the day of
    the week, the local start and end, and how many visits it takes (``capacity``)."""

    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    start: dt.time
    end: dt.time
    capacity: int = Field(ge=1, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> VisitingSlotDecl:
        if self.end <= self.start:
            raise ValueError(f"visiting slot on {self.day}: end {self.end} is not after start")
        return self

    def stored(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "capacity": self.capacity,
        }


class FacilityDecl(_Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1)
    jurisdiction: str
    timezone: str
    space_standard: Literal["icrc", "cpt", "ecthr"]
    declared_capacity: int | None = Field(default=None, ge=0)
    address: str = ""
    phone: str = ""
    visiting: str | dict[str, str] = ""
    visiting_slots: list[VisitingSlotDecl] = Field(default_factory=list)
    #: Rule A5: the heat index limit in °C (88 °F) and how long it must be sustained.
    heat_limit_c: Decimal = Field(
        default=Decimal("31.1"), ge=20, le=60, max_digits=4, decimal_places=1
    )
    heat_sustain_minutes: int = Field(default=30, ge=1, le=24 * 60)
    module: list[ModuleDecl] = Field(default_factory=list)

    _jurisdiction = field_validator("jurisdiction")(_country)

    @field_validator("visiting")
    @classmethod
    def _visiting(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        """A plain text, or one text per language of the site (``{en = "…", es = "…"}``)."""
        if isinstance(value, str):
            return value
        from django.conf import settings

        known = [code for code, _name in settings.LANGUAGES]
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(
                f"visiting: unknown language {', '.join(unknown)}; languages are {', '.join(known)}"
            )
        if not value:
            raise ValueError("visiting: give at least one language, or a plain text")
        return {code: value[code] for code in known if code in value}

    def visiting_texts(self) -> tuple[str, dict[str, str]]:
        """``(visiting, visiting_translations)`` as the facility stores them: the default
        language's text (else the first given) and the texts per language."""
        if isinstance(self.visiting, str):
            return self.visiting, {}
        from django.conf import settings

        default = self.visiting.get(settings.LANGUAGE_CODE) or next(iter(self.visiting.values()))
        return default, dict(self.visiting)

    @field_validator("visiting_slots")
    @classmethod
    def _slots(cls, value: list[VisitingSlotDecl]) -> list[VisitingSlotDecl]:
        seen: set[tuple[str, dt.time]] = set()
        for slot in value:
            if (slot.day, slot.start) in seen:
                raise ValueError(f"visiting slot on {slot.day} at {slot.start} declared twice")
            seen.add((slot.day, slot.start))
        return sorted(value, key=lambda s: (WEEKDAYS.index(s.day), s.start))

    def visiting_slots_stored(self) -> list[dict[str, Any]]:
        return [slot.stored() for slot in self.visiting_slots]

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @model_validator(mode="after")
    def _unique(self) -> FacilityDecl:
        codes = [m.code for m in self.module]
        if len(codes) != len(set(codes)):
            raise ValueError("module codes repeat")
        cells = [c.code for m in self.module for c in m.all_cells()]
        dupes = (
            sorted({c for c in cells if cells.count(c) > 1})
            if len(cells) != len(set(cells))
            else []
        )
        if dupes:
            raise ValueError(f"cell codes repeat: {', '.join(dupes[:5])}")
        return self


class TierDecl(_Strict):
    """Another rate for every person-day above ``above`` people held on that day."""

    above: int = Field(ge=0)
    per_person_day: Decimal = Field(ge=0, max_digits=12, decimal_places=4)


def _tiers_ordered(tiers: list[TierDecl] | None) -> list[TierDecl] | None:
    if tiers is not None:
        aboves = [t.above for t in tiers]
        if aboves != sorted(set(aboves)):
            raise ValueError("tiers must be listed by growing 'above', each once")
    return tiers


class FeeChangeDecl(_Strict):
    """``{from = "2025-09-01", per_person_day = "56.00"}``: the schedule from that date."""

    from_: dt.date = Field(alias="from")
    per_person_day: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=4)
    monthly_fee: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    tiers: list[TierDecl] | None = None

    _tiers = field_validator("tiers")(_tiers_ordered)

    @model_validator(mode="after")
    def _something(self) -> FeeChangeDecl:
        if self.per_person_day is None and self.monthly_fee is None and self.tiers is None:
            raise ValueError("a fee change sets per_person_day, monthly_fee or tiers")
        return self


class FeesDecl(_Strict):
    per_person_day: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    day_count: Literal["arrival_not_departure", "both", "midnights"] = "arrival_not_departure"
    monthly_fee: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=2)
    tiers: list[TierDecl] = Field(default_factory=list)
    changes: list[FeeChangeDecl] = Field(default_factory=list)

    _tiers = field_validator("tiers")(_tiers_ordered)

    @model_validator(mode="after")
    def _changes_once(self) -> FeesDecl:
        days = [c.from_ for c in self.changes]
        if len(days) != len(set(days)):
            raise ValueError("two fee changes from the same day")
        return self


class AgreementDecl(_Strict):
    code: str = Field(min_length=1, max_length=64)
    sending: str
    receiving: str
    facilities: list[str] = Field(min_length=1)
    policy: Literal["outsourcing_2025", "treaty_transfer"]
    policy_options: dict[str, Any] = Field(default_factory=dict)
    max_persons: int | None = Field(default=None, ge=0)
    starts: dt.date
    ends: dt.date | None = None
    currency: str
    fees: FeesDecl
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=0, le=100 * 366)
    sentence_rules: Literal["us_federal", "plain"] = "plain"

    _sending = field_validator("sending", "receiving")(_country)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if pycountry.currencies.get(alpha_3=value.upper()) is None:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value.upper()

    @model_validator(mode="after")
    def _dates(self) -> AgreementDecl:
        if self.ends is not None and self.ends < self.starts:
            raise ValueError("ends must not be before starts")
        if self.sending == self.receiving:
            raise ValueError("sending and receiving must be different states")
        early = [c.from_ for c in self.fees.changes if c.from_ <= self.starts]
        if early:
            raise ValueError(
                f"fees.changes: a change from {early[0]} is not after the agreement starts"
            )
        return self


class SetupDocument(_Strict):
    jurisdiction: list[JurisdictionDecl] = Field(default_factory=list)
    facility: list[FacilityDecl] = Field(default_factory=list)
    agreement: list[AgreementDecl] = Field(default_factory=list)


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as TOML tables: ``[[facility]] TEC → module M1 → code``."""
    parts: list[str] = []
    tables: list[str] = []
    node: Any = raw
    i = 0
    while i < len(loc):
        key = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if isinstance(key, str) and isinstance(nxt, int) and isinstance(node, dict):
            items = node.get(key)
            item = items[nxt] if isinstance(items, list) and nxt < len(items) else None
            label = item.get("code") if isinstance(item, dict) else None
            tables.append(key)
            table = ".".join(tables)
            parts.append(f"[[{table}]] {label}" if label else f"[[{table}]] #{nxt + 1}")
            node = item
            i += 2
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
        i += 1
    return " → ".join(parts) if parts else "(top level)"


def load_setup(path: Path) -> SetupDocument:
    """Read and validate a setup file; every problem is listed (file, table, key)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(MSG_TOML.format(file=path.name, error=exc)) from None
    return parse_setup(raw, name=path.name)


def parse_setup(raw: dict[str, Any], *, name: str) -> SetupDocument:
    try:
        return SetupDocument.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{name}: {_where(raw, tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ValidationFailed(
            f"{name}: {len(problems)} problem(s) in the setup file",
            details={str(n + 1): p for n, p in enumerate(problems)},
        ) from None
