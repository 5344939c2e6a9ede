"""The statistics' breakdowns are kept current by the services' events
(:mod:`habeas.oversight.tally`, performance issue item 1) and are never stale: after any
sequence of admissions, moves, transfers between facilities, changes of legal basis,
absences and releases, the maintained document equals the one counted from the tables."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError
from habeas.custody.check import conditions_for
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import custody_release
from habeas.custody.standing import standing_conditions
from habeas.oversight.models import PopulationCount, PopulationTally
from habeas.oversight.selectors import stats_document, stats_document_from_scratch
from habeas.oversight.tally import tally_rebuild
from tests.conftest import admit, make_person, removal_order, sentence
from tests.oversight.conftest import ADMITTED

STEP = dt.timedelta(hours=1)


def _held(people: list[Any]) -> list[Any]:
    open_ids = set(
        CustodyEpisode.objects.open().filter(person__in=people).values_list("person_id", flat=True)
    )
    return [p for p in people if p.pk in open_ids]


def _admit(world: dict[str, Any], actor: Actor, i: int, n: int, at: dt.datetime) -> Any:
    person = make_person(
        actor,
        given_names=f"Tally{i}",
        first_surname="Count",
        nationality=["VE", "SV", "GT", "HN"][n % 4],
        sex="F" if n % 5 == 4 else "M",
        dob=dt.date(1960 + n % 40, 1, 1 + i % 28),
    )
    us = n % 3 != 0
    bases = [[sentence()], [removal_order()], [sentence(), removal_order()]][n % 3]
    facility = world["tec"] if us or n % 2 else world["oth"]
    # the cell is chosen by the housing rules (separation, capacity)
    admit(actor, person, facility, world["us"] if us else world["gt"], bases=bases, at=at)
    return person


def _step(
    world: dict[str, Any], actor: Actor, people: list[Any], i: int, step: str, n: int
) -> None:
    from habeas.custody.absences import absence_end, absence_start
    from habeas.custody.amendments import basis_vacate, protection_record
    from habeas.facilities.models import Cell
    from habeas.housing.placements import placement_move
    from habeas.housing.relocation import custody_transfer

    at = ADMITTED + STEP * (i + 1)
    if step == "admit":
        people.append(_admit(world, actor, i, n, at))
        return
    held = _held(people)
    if not held:
        return
    person = held[n % len(held)]
    episode = CustodyEpisode.objects.open().get(person=person)
    if step == "release":
        reason = "death" if n % 7 == 6 else "repatriated"
        custody_release(actor=actor, person=person, reason=reason, at=at, destination="VE")
    elif step == "move":
        cells = list(Cell.objects.filter(facility=episode.facility).order_by("code"))
        placement_move(actor=actor, person=person, cell=cells[n % len(cells)], at=at, reason="test")
    elif step == "transfer":
        other = world["oth"] if episode.facility_id == world["tec"].pk else world["tec"]
        custody_transfer(actor=actor, person=person, facility=other, at=at, reason="test")
    elif step == "vacate":
        basis = episode.legal_bases.filter(status="active").order_by("pk").first()
        if basis is not None:
            basis_vacate(actor=actor, basis=basis, on=at.date(), authority="Court")
    elif step == "protect":
        basis = episode.legal_bases.filter(status="active", kind="removal_order").first()
        if basis is not None:
            protection_record(actor=actor, basis=basis, on=at.date(), authority="Court")
    elif step == "absence":
        absence = episode.absences.filter(ended_at__isnull=True).first()
        if absence is None:
            absence_start(
                actor=actor,
                person=person,
                kind="hospital",
                destination="Hospital",
                authority="Director",
                started_at=at,
                expected_return_at=at + STEP,
            )
        else:
            absence_end(actor=actor, absence=absence, returned_at=at)


STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "admit",
                "admit",
                "release",
                "move",
                "transfer",
                "vacate",
                "protect",
                "absence",
                "read",
            ]
        ),
        st.integers(0, 20),
    ),
    min_size=1,
    max_size=10,
)


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_maintained_statistics_always_equal_a_computation_from_scratch(
    world: dict[str, Any], actor: Actor, steps: list[tuple[str, int]]
) -> None:
    with transaction.atomic():  # each example starts from the same world
        people: list[Any] = []
        for i, (step, n) in enumerate(steps):
            if step == "read":
                _assert_maintained()
                continue
            # a step refused by a rule (a full cell, an agreement's facilities) writes nothing
            with contextlib.suppress(ApplicationError):
                _step(world, actor, people, i, step, n)
        _assert_maintained()
        transaction.set_rollback(True)


def _assert_maintained() -> None:
    """The statistics and the alarm conditions kept as events happen equal those computed
    from the tables now."""
    from django.utils import timezone

    assert stats_document() == stats_document_from_scratch()
    at = timezone.now()
    assert standing_conditions(CustodyEpisode.objects.open(), at) == conditions_for(None, at)
    _assert_alerts_counted_and_dated()


def _assert_alerts_counted_and_dated() -> None:
    """The statistics' alert counts (one count per kind, :func:`alert_counts`) equal the
    alerts listed, and each crowding alert is dated (:func:`crowding_since`) as the walk back
    over every placement event of its cells dates it (:func:`since_above`)."""
    from collections import Counter

    from habeas.conditions.alerts import alert_counts, alerts_for, since_above
    from habeas.facilities.models import Cell, Facility
    from habeas.facilities.selectors import occupancy_for
    from habeas.housing.models import Placement

    facilities = list(Facility.objects.order_by("code"))
    listed = alerts_for()
    assert alert_counts(facilities) == +Counter(a.kind for a in listed)
    # the dashboard's panel counts the legal-basis alarms from the kept conditions
    from habeas.web.attention import _alert_counts, open_alert_counts

    assert open_alert_counts(None) == _alert_counts(alerts_for(open_only=True))
    events: dict[int, list[tuple[dt.datetime, int]]] = {}
    for p in Placement.objects.all():
        events.setdefault(p.cell_id, []).append((p.started_at, 1))
        if p.ended_at is not None:
            events[p.cell_id].append((p.ended_at, -1))
    cells = {(c.facility.code, c.code): c for c in Cell.objects.select_related("facility")}
    modules = {
        (occ.facility.code, m.code): m for occ in occupancy_for(facilities) for m in occ.modules
    }
    by_cell = {c.id: c for occ in occupancy_for(facilities) for m in occ.modules for c in m.cells}
    for alert in listed:
        code, _sep, unit = alert.subject.partition(":")[2].partition("/")
        if alert.kind == "space":
            cell = by_cell[cells[(code, unit)].pk]
            limit = int(cell.usable_area_m2 // 3)
            assert alert.since == since_above(events.get(cell.id, []), cell.population, limit)
        elif alert.kind == "capacity":
            module = modules[(code, unit)]
            walk = [e for c in module.cells for e in events.get(c.id, [])]
            assert alert.since == since_above(walk, module.population, module.certified_capacity)


@pytest.mark.django_db
def test_a_rebuild_gives_the_maintained_counts_back(world: dict[str, Any], actor: Actor) -> None:
    people = [_admit(world, actor, i, n, ADMITTED) for i, n in enumerate([1, 2, 3, 5, 7])]
    custody_release(
        actor=actor, person=people[0], reason="repatriated", at=ADMITTED + STEP, destination="VE"
    )
    kept = sorted(
        PopulationCount.objects.filter(n__gt=0).values_list("facility_id", "dimension", "key", "n")
    )
    tallies = sorted(PopulationTally.objects.values_list("episode_id", "basis", "agreement"))
    assert len(tallies) == 4
    tally_rebuild()
    assert (
        sorted(PopulationCount.objects.values_list("facility_id", "dimension", "key", "n")) == kept
    )
    assert (
        sorted(PopulationTally.objects.values_list("episode_id", "basis", "agreement")) == tallies
    )
    doc = stats_document()
    assert doc["population"] == 4
    assert sum(doc["by_sex"].values()) == 4
    assert doc == stats_document_from_scratch()
