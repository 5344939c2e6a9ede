"""Invariants held by the database itself (HOUSE-STYLE: ``CheckConstraint`` and
``UniqueConstraint`` on SQLite and PostgreSQL), so a bug in a service, a hand-written SQL fix or
a second writer cannot break them. Each write runs inside a service (so the save
guard lets it through) and its own savepoint (so the test transaction survives the error)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError

from habeas.agreements.models import Agreement
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Cell, Module
from habeas.housing.models import Placement
from habeas.people.models import PersonIdentifier
from tests.conftest import admit, direct_write, make_person

T0 = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


def refused(fn: Callable[[], Any]) -> None:
    """``fn`` written inside a service (its own transaction: a savepoint, so the test
    transaction survives the error) is refused by the database."""
    with pytest.raises(IntegrityError):
        direct_write(fn)


def write(fn: Callable[[], Any]) -> Any:
    return direct_write(fn)


@pytest.fixture
def held(world: dict[str, Any], actor: Any) -> CustodyEpisode:
    """One person admitted to TEC (cell M1-01) under the US agreement."""
    episode: CustodyEpisode = admit(
        actor, make_person(actor), world["tec"], world["us"], at=T0, cell="M1-01"
    )
    return episode


def _cell(**overrides: Any) -> Cell:
    module = Module.objects.get(facility__code="TEC", code="M1")
    fields: dict[str, Any] = {
        "module": module,
        "facility": module.facility,
        "code": "X-01",
        "floor_area_m2": Decimal(20),
        "sanitary_area_m2": Decimal(2),
        "max_capacity": 6,
        "working_capacity": 4,
        "certified_capacity": 5,
    }
    fields.update(overrides)
    return Cell(**fields)


# --- cells ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_working_capacity_above_maximum_is_refused(world: dict[str, Any]) -> None:
    refused(lambda: _cell(working_capacity=7, max_capacity=6).save())
    cell = Cell.objects.get(code="M1-01")
    cell.working_capacity = cell.max_capacity + 1
    refused(lambda: cell.save())
    # Equal is allowed.
    write(lambda: _cell(working_capacity=6, max_capacity=6).save())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"floor_area_m2": Decimal(0), "sanitary_area_m2": Decimal(0)},
        {"sanitary_area_m2": Decimal(-1)},
        {"floor_area_m2": Decimal(5), "sanitary_area_m2": Decimal(6)},
    ],
)
def test_cell_areas_must_make_sense(world: dict[str, Any], overrides: dict[str, Any]) -> None:
    refused(lambda: _cell(**overrides).save())


@pytest.mark.django_db
def test_cell_code_unique_per_facility(world: dict[str, Any]) -> None:
    refused(lambda: _cell(code="M1-01").save())


# --- custody episodes ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "delta", [dt.timedelta(0), -dt.timedelta(seconds=1), -dt.timedelta(days=3)]
)
def test_release_at_or_before_admission_is_refused(
    held: CustodyEpisode, delta: dt.timedelta
) -> None:
    held.released_at = held.admitted_at + delta
    held.release_reason = "court_order"
    refused(lambda: held.save())


@pytest.mark.django_db
def test_release_without_reason_is_refused(held: CustodyEpisode) -> None:
    held.released_at = held.admitted_at + dt.timedelta(days=1)
    held.release_reason = ""
    refused(lambda: held.save())


@pytest.mark.django_db
def test_reason_without_release_is_refused(held: CustodyEpisode) -> None:
    held.release_reason = "death"
    refused(lambda: held.save())


@pytest.mark.django_db
def test_two_open_episodes_for_one_person_are_refused(
    held: CustodyEpisode, world: dict[str, Any]
) -> None:
    refused(
        lambda: CustodyEpisode(
            person=held.person, facility=world["oth"], agreement=world["gt"], admitted_at=T0
        ).save()
    )
    # A closed earlier episode beside the open one is allowed.
    write(
        lambda: CustodyEpisode(
            person=held.person,
            facility=world["oth"],
            admitted_at=T0 - dt.timedelta(days=30),
            released_at=T0 - dt.timedelta(days=20),
            release_reason="transferred",
        ).save()
    )


# --- placements ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_open_placements_for_one_episode_are_refused(held: CustodyEpisode) -> None:
    other = Cell.objects.get(code="M1-02")
    refused(
        lambda: Placement(episode=held, cell=other, started_at=T0 + dt.timedelta(hours=1)).save()
    )


@pytest.mark.django_db
def test_placement_ended_before_it_started_is_refused(held: CustodyEpisode) -> None:
    placement = held.placements.get()
    placement.ended_at = placement.started_at - dt.timedelta(seconds=1)
    refused(lambda: placement.save())
    # Ending at the very moment it started is allowed (a same-minute correction).
    placement.ended_at = placement.started_at
    write(placement.save)


# --- agreements and people -----------------------------------------------------------------------


@pytest.mark.django_db
def test_agreement_ending_before_it_starts_is_refused(world: dict[str, Any]) -> None:
    agreement: Agreement = world["us"]
    agreement.ends = agreement.starts - dt.timedelta(days=1)
    refused(lambda: agreement.save())
    agreement.ends = agreement.starts
    write(agreement.save)


@pytest.mark.django_db
def test_agreement_between_a_state_and_itself_or_with_a_negative_fee_is_refused(
    world: dict[str, Any],
) -> None:
    agreement: Agreement = world["us"]
    agreement.receiving = agreement.sending
    refused(lambda: agreement.save())
    agreement.refresh_from_db()
    agreement.per_person_day = Decimal("-0.01")
    refused(lambda: agreement.save())


@pytest.mark.django_db
def test_identifier_unique_per_authority(actor: Any, world: dict[str, Any]) -> None:
    person = make_person(actor)
    ident = person.identifiers.get()
    refused(
        lambda: PersonIdentifier(
            person=make_person(actor), authority=ident.authority, kind=ident.kind, value=ident.value
        ).save()
    )
    # The same value from another authority is another identifier.
    write(
        lambda: PersonIdentifier(
            person=person, authority="GT", kind=ident.kind, value=ident.value
        ).save()
    )
