"""A small population for the API tests, on top of ``world`` and ``users`` (tests/conftest.py).

* ``us``: held in TEC under the US agreement (a sentence, so a release date);
* ``gt_oth``: held in OTH under the Guatemalan agreement;
* ``gt_tec``: held in TEC under the Guatemalan agreement (visible to TEC staff, never to the
  US liaison);
* ``moved``: first held in TEC under the US agreement, released, now held in OTH under the
  Guatemalan one (the US liaison sees the person, but not the Guatemalan episode).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.conftest import admit, make_person, removal_order, sentence

ADMITTED = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def scene(world: dict[str, Any], users: dict[str, Any], actor: Any) -> dict[str, Any]:
    from habeas.custody.services import custody_release

    us = make_person(actor, given_names="Ana", first_surname="Uno", authority="US")
    gt_oth = make_person(actor, given_names="Beto", first_surname="Dos", authority="GT")
    gt_tec = make_person(actor, given_names="Carla", first_surname="Tres", authority="GT", sex="F")
    moved = make_person(actor, given_names="Dario", first_surname="Cuatro", authority="US")
    episodes = {
        "us": admit(actor, us, world["tec"], world["us"], bases=[sentence("P5Y")], at=ADMITTED),
        "gt_oth": admit(actor, gt_oth, world["oth"], world["gt"], at=ADMITTED),
        "gt_tec": admit(
            actor, gt_tec, world["tec"], world["gt"], bases=[removal_order()], at=ADMITTED
        ),
    }
    episodes["moved_us"] = admit(actor, moved, world["tec"], world["us"], at=ADMITTED)
    custody_release(
        actor=actor,
        person=moved,
        reason="transferred",
        at=ADMITTED + dt.timedelta(days=10),
        destination="SV",
    )
    episodes["moved_gt"] = admit(
        actor, moved, world["oth"], world["gt"], at=ADMITTED + dt.timedelta(days=10, hours=2)
    )
    return {
        "people": {"us": us, "gt_oth": gt_oth, "gt_tec": gt_tec, "moved": moved},
        "episodes": episodes,
        **world,
    }


@pytest.fixture
def client_for(users: dict[str, Any]) -> Any:
    """``client_for("liaison_us")``: a test client signed in (session) as that user;
    ``client_for("anonymous")``: not signed in."""

    def make(name: str) -> Client:
        client = Client()
        if name != "anonymous":
            client.force_login(users[name])
        return client

    return make
