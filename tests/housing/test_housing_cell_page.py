"""The one cell page (issue 4, deliver 6): the housing cell page, which the web shell's old
cell URL now redirects to, shows what both pages showed — occupancy band, capacities with the
space standard, dimensions, occupants with their legal basis, keep-apart warnings naming and
linking both people, the history and the move links — in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from habeas.core.actor import Actor
from habeas.facilities.models import Cell
from habeas.housing.placements import placement_move
from habeas.housing.services import keep_apart_open
from tests.conftest import admit, make_person, removal_order

pytestmark = pytest.mark.django_db

AT = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


def client_for(user: Any, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


@pytest.fixture
def scene(world: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """M1-01: Ana Uno (convicted) and Beto Dos (a keep-apart record with Ciro Tres, held in
    M1-02); Dora Cuatro moved out of M1-01 to M1-03."""
    people = {}
    for key, given, surname, cell in [
        ("a", "Ana", "Uno", "M1-01"),
        ("b", "Beto", "Dos", "M1-01"),
        ("c", "Ciro", "Tres", "M1-02"),
        ("d", "Dora", "Cuatro", "M1-01"),
    ]:
        people[key] = make_person(actor, given_names=given, first_surname=surname)
        admit(actor, people[key], world["tec"], world["us"], at=AT, cell=cell)
    keep_apart_open(
        actor=actor, person=people["b"], other=people["c"], scope="module", reason="threats"
    )
    placement_move(
        actor=actor,
        person=people["d"],
        cell=Cell.objects.get(facility__code="TEC", code="M1-03"),
        at=AT + dt.timedelta(days=1),
        reason="cell repairs",
    )
    return people


def test_the_unified_page_shows_band_capacity_dimensions_and_occupants(
    scene: dict[str, Any], users: dict[str, Any]
) -> None:
    body = client_for(users["staff"]).get("/housing/TEC/cells/M1-01/").content.decode()
    assert "Cell M1-01" in body
    assert "Up to 85% of certified capacity" in body  # 2 of a certified 5: the band
    assert "computed from usable floor area" in body
    assert "ICRC 2012 supplementary guidance" in body  # the standard's source
    assert "Ceiling height" in body
    assert "Window" in body
    assert "Uno Ramírez, Ana" in body
    assert "Dos Ramírez, Beto" in body
    assert "Criminal sentence" in body
    assert "1990-05-17" in body  # date of birth
    assert "2025-03-16 08:05 CST" in body  # admission, the facility's local time


def test_keep_apart_warnings_name_and_link_both_people(
    scene: dict[str, Any], users: dict[str, Any]
) -> None:
    body = client_for(users["staff"]).get("/housing/TEC/cells/M1-01/").content.decode()
    assert "Keep-apart warnings" in body
    b, c = scene["b"], scene["c"]
    person_b = reverse("web:person_detail", args=[b.pk])
    person_c = reverse("web:person_detail", args=[c.pk])
    assert f'person <a href="{person_b}">{b.full_name}</a> is kept apart from person' in body
    assert f'<a href="{person_c}">{c.full_name}</a>' in body
    assert "held in cell M1-02" in body
    es = client_for(users["staff"], "es").get("/housing/TEC/cells/M1-01/").content.decode()
    assert f'la persona <a href="{person_b}">{b.full_name}</a> debe estar separada' in es


def test_history_and_move_links(scene: dict[str, Any], users: dict[str, Any]) -> None:
    staff = client_for(users["staff"]).get("/housing/TEC/cells/M1-01/").content.decode()
    d = scene["d"]
    assert reverse("web:person_detail", args=[d.pk]) in staff  # in the history only
    assert "cell repairs" not in staff  # the move's reason belongs to M1-03's placement
    assert staff.count(">Admission<") >= 3  # admissions' reason, translated
    for key in ("a", "b"):
        assert reverse("housing:move", args=[scene[key].pk]) in staff
    assert reverse("housing:move", args=[d.pk]) not in staff  # not held here any more
    m103 = client_for(users["staff"]).get("/housing/TEC/cells/M1-03/").content.decode()
    assert "cell repairs" in m103
    # oversight reads the page but moves nobody
    oversight = client_for(users["oversight"]).get("/housing/TEC/cells/M1-01/").content.decode()
    assert "Uno Ramírez, Ana" in oversight
    assert reverse("housing:move", args=[scene["a"].pk]) not in oversight
    es = client_for(users["staff"], "es").get("/housing/TEC/cells/M1-01/").content.decode()
    assert ">Ingreso<" in es


def test_query_count_does_not_grow_with_the_occupants(
    world: dict[str, Any], users: dict[str, Any], actor: Actor, django_assert_max_num_queries: Any
) -> None:
    for _ in range(4):
        admit(actor, make_person(actor), world["tec"], world["us"], at=AT, cell="M2-01",
              bases=[removal_order()])  # fmt: skip
    client = client_for(users["staff"])
    client.get("/housing/TEC/cells/M2-01/")  # sessions, translations: warmed once
    with django_assert_max_num_queries(14):
        response = client.get("/housing/TEC/cells/M2-01/")
    assert response.status_code == 200
    assert response.content.decode().count('class="person-name"') == 4
