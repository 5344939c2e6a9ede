"""Fixtures of the oversight tests: a small population on top of ``world`` and ``users``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import admit, make_person, removal_order, sentence

ADMITTED = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _oversight_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.oversight.urls"


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """The locator's rate limit lives in the shared cache (the database cache by default):
    every test that reaches the database starts with a clean one."""
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db")
    )
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scene(world: dict[str, Any], users: dict[str, Any], actor: Any) -> dict[str, Any]:
    """José Alberto Hernández Ramírez (VE, 1990) in TEC cell M1-01; a namesake born 1985;
    Luis Pérez released 10 days ago; Ana Xol released 200 days ago; Mateo Tzul (GT) never
    held; Carlos de la Cruz y Pérez (GT) in OTH."""
    from habeas.core.clock import now
    from habeas.custody.services import custody_release

    jose = make_person(
        actor,
        given_names="José Alberto",
        first_surname="Hernández",
        second_surname="Ramírez",
        dob=dt.date(1990, 5, 17),
    )
    admit(actor, jose, world["tec"], world["us"], cell="M1-01", at=ADMITTED)
    namesake = make_person(
        actor,
        given_names="José",
        first_surname="Hernández",
        second_surname="López",
        dob=dt.date(1985, 1, 2),
    )
    admit(actor, namesake, world["tec"], world["us"], cell="M1-02", at=ADMITTED)
    luis = make_person(
        actor, given_names="Luis", first_surname="Pérez", second_surname="", dob=dt.date(1979, 3, 3)
    )
    admit(
        actor, luis, world["tec"], world["us"], bases=[removal_order()], cell="M2-01", at=ADMITTED
    )
    custody_release(
        actor=actor,
        person=luis,
        reason="repatriated",
        at=now() - dt.timedelta(days=10),
        destination="VE",
    )
    ana = make_person(
        actor,
        given_names="Ana",
        first_surname="Xol",
        second_surname="",
        sex="F",
        nationality="GT",
        authority="GT",
        dob=dt.date(1992, 7, 1),
    )
    admit(actor, ana, world["tec"], world["gt"], bases=[removal_order()], cell="W1-01", at=ADMITTED)
    custody_release(
        actor=actor, person=ana, reason="sentence_served", at=ADMITTED + dt.timedelta(days=30)
    )
    mateo = make_person(
        actor,
        given_names="Mateo",
        first_surname="Tzul",
        second_surname="",
        nationality="GT",
        authority="GT",
        dob=dt.date(1991, 1, 1),
    )
    carla = make_person(
        actor,
        given_names="Carlos",
        first_surname="de la Cruz",
        second_surname="y Pérez",
        nationality="GT",
        authority="GT",
        dob=dt.date(1988, 8, 8),
    )
    admit(
        actor, carla, world["oth"], world["gt"], bases=[sentence("P5Y")], cell="A-01", at=ADMITTED
    )
    return {
        "jose": jose,
        "namesake": namesake,
        "luis": luis,
        "ana": ana,
        "mateo": mateo,
        "carla": carla,
        **world,
    }


@pytest.fixture
def client_for(users: dict[str, Any]) -> Any:
    def make(name: str) -> Client:
        client = Client()
        if name != "anonymous":
            client.force_login(users[name])
        return client

    return make


def ref_of(person: Any) -> str:
    return str(person.identifiers.first().value)
