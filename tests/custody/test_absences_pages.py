"""The pages: the person page shows the current absence and the history and lets facility
staff record a departure and a return; the roll page shows people out by kind and does not
expect them in their cell."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from habeas.core.actor import Actor
from habeas.custody.absences import absence_start, current_absence
from habeas.custody.models import TemporaryAbsence
from habeas.ledger.models import LedgerEntry
from tests.conftest import admit, make_person

T0 = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


def client(users: dict[str, Any], name: str) -> Client:
    c = Client()
    c.force_login(users[name])
    return c


@pytest.fixture
def held(world: dict[str, Any], users: dict[str, Any], actor: Actor) -> dict[str, Any]:
    a = make_person(actor, given_names="Ana", first_surname="Corte")
    b = make_person(actor, given_names="Bruno", first_surname="Celda")
    admit(actor, a, world["tec"], world["us"], at=T0, cell="M1-01")
    admit(actor, b, world["tec"], world["us"], at=T0, cell="M1-01")
    return {"a": a, "b": b}


def start_form(**kw: str) -> dict[str, str]:
    data = {
        "form": "absence_start",
        "kind": "court",
        "destination": "Juzgado Segundo de Sentencia",
        "authority": "citation 12/2025",
        "escort": "two officers",
        "started_at": "2025-03-17T08:30",
        "expected_return_at": "2025-03-17T16:00",
        "reason": "",
        "kind_other": "",
    }
    data.update(kw)
    return data


def test_staff_record_departure_and_return_on_the_person_page(
    held: dict[str, Any], users: dict[str, Any]
) -> None:
    a = held["a"]
    staff = client(users, "staff")
    url = f"/people/{a.pk}/"
    page = staff.get(url).content.decode()
    assert "Record a departure" in page
    assert "No movement out of the facility recorded" in page

    response = staff.post(url, start_form())
    assert response.status_code == 302
    assert response["Location"].endswith("#absences")
    absence = current_absence(a)
    assert absence is not None
    # the facility's local time (America/El_Salvador, UTC−6)
    assert absence.started_at == dt.datetime(2025, 3, 17, 14, 30, tzinfo=dt.UTC)
    assert absence.recorded_by == "staff"

    page = staff.get(url).content.decode()
    assert "out: Court since 2025-03-17 08:30" in page
    assert "Out: Court since 2025-03-17 08:30 CST" in page
    assert "Juzgado Segundo de Sentencia" in page
    assert "Record the return" in page
    assert "Record a departure" not in page
    # the ledger history says it too (Mandela Rule 7(c))
    # (where to and the escort are personal: the panel above shows them, the history not)
    assert "Left the facility: Court; authority: citation 12/2025" in page
    assert "two officers" in page

    back = staff.post(
        url, {"form": "absence_end", "absence": absence.pk, "returned_at": "2025-03-17T15:10"}
    )
    assert back.status_code == 302
    absence.refresh_from_db()
    assert absence.ended_at == dt.datetime(2025, 3, 17, 21, 10, tzinfo=dt.UTC)
    page = staff.get(url).content.decode()
    assert "2025-03-17 15:10 CST" in page
    assert "Record a departure" in page
    assert [e.action for e in LedgerEntry.objects.order_by("-index")[:2]] == [
        "custody.absence_ended",
        "custody.absence_started",
    ]


def test_person_page_refusals_are_shown_and_write_nothing(
    held: dict[str, Any], users: dict[str, Any]
) -> None:
    a = held["a"]
    staff = client(users, "staff")
    url = f"/people/{a.pk}/"
    before = LedgerEntry.objects.count()
    early = staff.post(url, start_form(started_at="2025-03-15T08:00"))
    assert early.status_code == 400
    assert "before the admission" in early.content.decode()
    other = staff.post(url, start_form(kind="other"))
    assert other.status_code == 400
    assert "needs a description" in other.content.decode()
    missing = staff.post(url, start_form(destination=""))
    assert missing.status_code == 400
    assert "field--error" in missing.content.decode()
    assert LedgerEntry.objects.count() == before
    assert not TemporaryAbsence.objects.exists()
    staff.post(url, start_form())
    absence = current_absence(a)
    assert absence is not None
    before_return = staff.post(
        url, {"form": "absence_end", "absence": absence.pk, "returned_at": "2025-03-17T08:00"}
    )
    assert before_return.status_code == 400
    assert "before the departure" in before_return.content.decode()


def test_who_sees_and_who_records(held: dict[str, Any], users: dict[str, Any]) -> None:
    a = held["a"]
    absence_start(
        actor=Actor(name="test"),
        person=a,
        kind="hospital",
        destination="Hospital Rosales",
        authority="medical officer",
        started_at=T0 + dt.timedelta(days=1),
    )
    url = f"/people/{a.pk}/"
    monitor = client(users, "oversight").get(url).content.decode()
    assert "Hospital Rosales" in monitor
    assert "Record the return" not in monitor
    # oversight may read, not write: 403; nothing recorded
    assert client(users, "oversight").post(url, start_form()).status_code == 403
    # the sending state's liaison sees the person, not their movements
    liaison = client(users, "liaison_us").get(url).content.decode()
    assert "Hospital Rosales" not in liaison
    assert "Out of the facility" not in liaison
    assert client(users, "liaison_us").post(url, start_form()).status_code == 403
    assert TemporaryAbsence.objects.count() == 1
    # staff of another facility: the same 404 as a missing person
    assert client(users, "staff_oth").get(url).status_code == 404


def test_roll_page_shows_people_out_by_kind_and_expects_them_out(
    held: dict[str, Any], users: dict[str, Any]
) -> None:
    a = held["a"]
    absence_start(
        actor=Actor(name="test"),
        person=a,
        kind="court",
        destination="Juzgado Segundo de Sentencia",
        authority="citation 12/2025",
        started_at=T0 + dt.timedelta(days=1),
        expected_return_at=T0 + dt.timedelta(days=1, hours=4),
    )
    staff = client(users, "staff")
    html = staff.get("/housing/TEC/roll/").content.decode()
    assert "Out: court" in html
    assert "Out: hospital" in html
    assert "Out: other" in html
    assert "Out of the establishment now: 1 person" in html
    assert "Ana Corte" in html
    assert "Juzgado Segundo de Sentencia" in html
    assert "overdue" in html  # expected back in March 2025
    assert "(expected 1, 1 out)" in html  # M1-01 holds two, one of them at court
    # counting the one person in the cell is no discrepancy
    response = staff.post(
        "/housing/TEC/roll/", {"counted_at": "2025-03-18T06:00", "cell-M1-01": "1"}
    )
    assert response.status_code == 302
    html = staff.get("/housing/TEC/roll/").content.decode()
    assert "Every counted cell matched the registry." in html
