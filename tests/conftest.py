"""Shared fixtures. Every test runs on SQLite, and on PostgreSQL when
``HABEAS_TEST_DATABASE_URL`` is set (settings.py switches the default database)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HABEAS_HOME", tempfile.mkdtemp(prefix="habeas-test-"))
(Path(os.environ["HABEAS_HOME"]) / "static").mkdir(parents=True, exist_ok=True)  # as `init` does

DEMO_SETUP = Path(__file__).resolve().parent.parent / "src/habeas/web/data/demo_setup.toml"

SMALL_SETUP = """
[[jurisdiction]]
code = "US"
name = "United States"

[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[jurisdiction]]
code = "GT"
name = "Guatemala"

[[facility]]
code = "TEC"
name = "Test centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "icrc"
address = "Km 77"
phone = "+503 0000"
visiting = "Weekdays"

[[facility.module]]
code = "M1"
population = "adult_male"
regime = "criminal"
cell_block = {count = 3, prefix = "M1-", floor_area_m2 = 20.0, sanitary_area_m2 = 2.0, bunks = 4, max_capacity = 6, working_capacity = 4}

[[facility.module]]
code = "M2"
population = "adult_male"
regime = "civil"
cell_block = {count = 2, prefix = "M2-", floor_area_m2 = 20.0, sanitary_area_m2 = 2.0, bunks = 4, max_capacity = 6, working_capacity = 4}

[[facility.module]]
code = "W1"
population = "adult_female"
regime = "civil"
cells = [{code = "W1-01", floor_area_m2 = 12.0, sanitary_area_m2 = 1.0, max_capacity = 3, working_capacity = 2}]

[[facility]]
code = "OTH"
name = "Other centre"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "cpt"

[[facility.module]]
code = "A"
population = "adult_male"
regime = "criminal"
cells = [{code = "A-01", floor_area_m2 = 24.0, max_capacity = 8, working_capacity = 8}]

[[agreement]]
code = "US-SV"
sending = "US"
receiving = "SV"
facilities = ["TEC"]
policy = "outsourcing_2025"
max_persons = 300
starts = "2025-03-15"
currency = "USD"
fees = {per_person_day = "54.79"}

[[agreement]]
code = "GT-SV"
sending = "GT"
receiving = "SV"
facilities = ["TEC", "OTH"]
policy = "treaty_transfer"
starts = "2025-01-01"
currency = "USD"
fees = {per_person_day = "30.00"}
"""

_refs = itertools.count(1)


@pytest.fixture(autouse=True, scope="session")
def _ledger_signing_key() -> None:
    """``habeas init`` creates the key in HABEAS_HOME; tests start from an empty home."""
    from habeas.ledger.keys import ensure_signing_key

    ensure_signing_key()


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Every test starts and ends in the default language: a Spanish request through the test
    client leaves Spanish active in its thread, which would leak into the next test."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2 at Django's production cost takes ~0.7 s a user; tests need no such strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _hourly_demo_readings(settings: Any) -> None:
    """The demo's week of cell readings, hourly rather than every 15 minutes: the same alerts
    with a quarter of the rows, for the many tests that load the demo."""
    settings.HABEAS_DEMO_READING_MINUTES = 60


@pytest.fixture
def actor() -> Any:
    from habeas.core.actor import Actor

    return Actor(name="test:officer", role="facility_staff")


@pytest.fixture
def setup_doc() -> Any:
    import tomllib

    from habeas.facilities.setup_schema import parse_setup

    return parse_setup(tomllib.loads(SMALL_SETUP), name="small.toml")


@pytest.fixture
def world(db: Any, actor: Any, setup_doc: Any) -> dict[str, Any]:
    """Two facilities, agreements with the US (TEC) and Guatemala (TEC, OTH)."""
    from habeas.agreements.models import Agreement
    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply

    setup_apply(actor=actor, document=setup_doc)
    return {
        "tec": Facility.objects.get(code="TEC"),
        "oth": Facility.objects.get(code="OTH"),
        "us": Agreement.objects.get(code="US-SV"),
        "gt": Agreement.objects.get(code="GT-SV"),
    }


def direct_write(fn: Any) -> Any:
    """Test set-up written directly, on purpose: ``fn()`` runs inside a service (the
    ``@service`` decorator: one transaction, the write guard open), as the one rule asks of
    every write; its result is returned."""
    from habeas.core.services import service

    _WROTE_DIRECTLY.append(True)
    return service(fn)()


#: Set by :func:`direct_write`: the test wrote behind the services, so the tables no longer
#: agree with the ledger on purpose and the suite-wide verify check is not made for it.
_WROTE_DIRECTLY: list[bool] = []


def make_person(
    actor: Any,
    *,
    sex: str = "M",
    nationality: str = "VE",
    authority: str = "US",
    dob: dt.date | None = dt.date(1990, 5, 17),
    **names: str,
) -> Any:
    from habeas.people.services import Identifier, PersonSpec, person_create

    ref = f"A{next(_refs):08d}"
    return person_create(
        actor=actor,
        spec=PersonSpec(
            given_names=names.get("given_names", "José Alberto"),
            first_surname=names.get("first_surname", "Hernández"),
            second_surname=names.get("second_surname", "Ramírez"),
            sex=sex,
            nationalities=[nationality],
            date_of_birth=dob,
            identifiers=[Identifier(authority=authority, value=ref)],
        ),
    )


def removal_order() -> Any:
    from habeas.custody.services import LegalBasisSpec

    return LegalBasisSpec(
        kind="removal_order", ref="RO-1", authority="US", order_date=dt.date(2025, 3, 1)
    )


def sentence(length: str = "P2Y", start: dt.date = dt.date(2024, 1, 1)) -> Any:
    from habeas.custody.services import LegalBasisSpec

    return LegalBasisSpec(
        kind="criminal_sentence",
        ref="CR-1",
        authority="US",
        offence="robbery",
        conviction_date=start,
        judgment_final=True,
        sentence=length,
        sentence_start=start,
    )


def admit(
    actor: Any,
    person: Any,
    facility: Any,
    agreement: Any,
    *,
    bases: Any = None,
    at: dt.datetime | None = None,
    cell: str | None = None,
) -> Any:
    from habeas.housing.placements import admit_and_place

    return admit_and_place(
        actor=actor,
        person=person,
        facility=facility,
        agreement=agreement,
        legal_bases=bases or [sentence()],
        admitted_at=at or dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC),
        cell_code=cell,
    )


@pytest.fixture
def users(db: Any) -> dict[str, Any]:
    """One user per role (ARCHITECTURE.md) plus a liaison of another state; the inspector
    is of a body whose mandate covers TEC (not yet appointed to one: tests/inspections)."""
    spec = {
        "staff": {"role": "facility_staff", "facility_codes": ["TEC"]},
        "staff_oth": {"role": "facility_staff", "facility_codes": ["OTH"]},
        "admin": {"role": "facility_admin", "facility_codes": ["TEC"]},
        "liaison_us": {"role": "liaison", "jurisdiction_code": "US"},
        "liaison_gt": {"role": "liaison", "jurisdiction_code": "GT"},
        "finance_us": {"role": "finance", "jurisdiction_code": "US"},
        "oversight": {"role": "oversight"},
        "auditor": {"role": "auditor"},
        "inspector": {"role": "inspector", "facility_codes": ["TEC"]},
        "norole": {"role": ""},
    }
    return {
        name: make_user(username=name, password="pw-" + name + "-long-passphrase", **fields)
        for name, fields in spec.items()
    }


def make_user(*, username: str, password: str, **fields: Any) -> Any:
    """An account made as Habeas makes one: through ``user_create``, on the ledger (a row
    made behind the service is what ``verify-ledger`` calls tampering)."""
    from habeas.accounts.services import user_create
    from habeas.core.actor import Actor

    return user_create(
        actor=Actor(name="test:setup", role="facility_admin"),
        username=username,
        password=password,
        role=fields.pop("role", ""),
        **fields,
    )


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``habeas ARGS`` in-process and return (exit code, stdout, stderr).

    Uses ``call_command`` (not ``run_from_argv``, which closes the database connections and
    so would break the test transaction on PostgreSQL), mapping errors to the CLI's exit
    codes: ``CommandError.returncode`` (2 for refusals) and ``SystemExit`` (1 for checks).
    """
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        err.write(f"CommandError: {exc}\n")
        code = exc.returncode
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


# --- no false alarms: verify-ledger after every test that wrote ----------------------------


@pytest.fixture(autouse=True)
def _tables_agree_with_the_ledger_after_the_test(request: pytest.FixtureRequest) -> Any:
    """After every test that wrote to the ledger, the tables must agree with it (the
    table-vs-ledger replay of ``verify-ledger``): a normal flow that ``verify-ledger`` would
    call tampering fails the suite here. Tests that tamper on purpose carry the marker
    ``tampers``, and tests that set up rows with :func:`direct_write` are skipped too."""
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    if not uses_db or request.node.get_closest_marker("tampers") is not None:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    _WROTE_DIRECTLY.clear()
    yield
    if _WROTE_DIRECTLY:
        return
    from habeas.ledger.replay import compare
    from habeas.ledger.services import ledger_size

    if ledger_size() == 0:
        return
    differences = compare(limit=10).differences
    assert not differences, "verify-ledger would fail after this test: " + "; ".join(
        f"{d.where}: {d.message}" for d in differences
    )
    _payloads_match_their_schemas()


def _payloads_match_their_schemas() -> None:
    """Every entry's payload validates against its action's declared schema (the event
    registry): a payload that drifted from its declaration fails the test that wrote it."""
    import pydantic

    from habeas.core.events import action
    from habeas.ledger.models import LedgerEntry

    wrong = []
    for index, name, canonical in LedgerEntry.objects.values_list("index", "action", "canonical"):
        declared = action(name)
        if declared is None or declared.schema is None:
            continue
        try:
            declared.schema.model_validate(json.loads(canonical)["payload"])
        except pydantic.ValidationError as exc:
            wrong.append(f"entry {index} ({name}): {exc}")
    assert not wrong, "payloads that do not match their schema: " + "; ".join(wrong[:3])
