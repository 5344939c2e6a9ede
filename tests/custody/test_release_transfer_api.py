"""Release and transfer through the API and the command line: confirmation of warnings,
scope (404 outside the facility, 403 for the sending state), ledger entries, the notices
queued in the outbox, and the replay of a transfer by ``verify-ledger``."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from habeas.ledger.models import LedgerEntry
from habeas.notifications.models import Delivery
from tests.api import conftest as api_fixtures
from tests.api.conftest import ADMITTED

scene = api_fixtures.scene
client_for = api_fixtures.client_for

RELEASE = "/api/v1/persons/{}/release"
TRANSFER = "/api/v1/persons/{}/transfer"
LATER = (ADMITTED + dt.timedelta(days=3)).isoformat()


@pytest.fixture(autouse=True)
def sending_states_subscribed(actor: Any) -> None:
    """The two sending states listen for notices of their transferees (webhooks)."""
    from habeas.notifications.services import subscription_create

    for code in ("US", "GT"):
        subscription_create(
            actor=actor,
            name=f"{code} ministry",
            audience="sending_state",
            country=code,
            url=f"https://{code.lower()}.example/hooks",
            secret="0123456789abcdef-secret",
        )


@pytest.fixture
def mover(scene: dict[str, Any], actor: Any) -> Any:
    """A sentenced man of the Guatemalan agreement held in TEC: OTH's criminal module for
    men may take him."""
    from tests.conftest import admit, make_person, sentence

    person = make_person(actor, given_names="Elias", first_surname="Cinco", authority="GT")
    admit(actor, person, scene["tec"], scene["gt"], bases=[sentence("P2Y")], at=ADMITTED)
    return person


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=body, content_type="application/json")


def last_action() -> str:
    entry = LedgerEntry.objects.order_by("-index").first()
    return entry.action if entry else ""


def test_early_sentence_served_release_needs_confirmation(
    scene: dict[str, Any], client_for: Any
) -> None:
    person = scene["people"]["us"]
    staff = client_for("staff")
    before = LedgerEntry.objects.count()
    body = {"reason": "sentence_served", "at": LATER, "destination": "us"}
    refused = post(staff, RELEASE.format(person.pk), body)
    assert refused.status_code == 409
    assert "projected release date" in refused.json()["message"]
    assert LedgerEntry.objects.count() == before  # nothing written

    done = post(staff, RELEASE.format(person.pk), {**body, "confirm": True})
    assert done.status_code == 200, done.json()
    doc = done.json()
    assert doc["reason"] == "sentence_served"
    assert doc["destination"] == "US"
    assert doc["released_at"] == "2025-03-19T14:05:00Z"
    assert len(doc["warnings"]) == 1
    assert LedgerEntry.objects.filter(
        action="custody.released", subject=f"person:{person.pk}"
    ).exists()
    assert Delivery.objects.filter(person=person, event="release").exists()

    again = post(staff, RELEASE.format(person.pk), {**body, "confirm": True})
    assert again.status_code == 409
    assert "not in custody" in again.json()["message"]


def test_release_without_warnings_needs_no_confirmation(
    scene: dict[str, Any], client_for: Any
) -> None:
    person = scene["people"]["gt_tec"]
    done = post(
        client_for("admin"),
        RELEASE.format(person.pk),
        {"reason": "court_order", "at": LATER},
    )
    assert done.status_code == 200, done.json()
    assert done.json()["warnings"] == []


def test_release_refused_outside_scope_and_for_other_roles(
    scene: dict[str, Any], client_for: Any
) -> None:
    person = scene["people"]["us"]
    body = {"reason": "court_order", "at": LATER}
    assert post(client_for("staff_oth"), RELEASE.format(person.pk), body).status_code == 404
    assert post(client_for("liaison_us"), RELEASE.format(person.pk), body).status_code == 403
    assert post(client_for("oversight"), RELEASE.format(person.pk), body).status_code == 403
    bad = post(client_for("staff"), RELEASE.format(person.pk), {**body, "reason": "escaped"})
    assert bad.status_code == 400
    assert "unknown release reason" in bad.json()["message"]
    assert not LedgerEntry.objects.filter(
        action="custody.released", subject=f"person:{person.pk}"
    ).exists()


def test_transfer_moves_the_episode_and_queues_the_notice(
    scene: dict[str, Any], client_for: Any, mover: Any
) -> None:
    person = mover
    staff = client_for("staff")
    done = post(
        staff, TRANSFER.format(person.pk), {"to": "OTH", "at": LATER, "reason": "court request"}
    )
    assert done.status_code == 200, done.json()
    doc = done.json()
    assert doc["facility"] == "OTH"
    assert doc["cell"] == "A-01"
    entry = LedgerEntry.objects.filter(action="custody.transferred").get()
    assert entry.subject == f"person:{person.pk}"
    assert Delivery.objects.filter(person=person, event="transfer").exists()
    # TEC staff no longer see the person; OTH staff do
    assert staff.get(f"/api/v1/persons/{person.pk}/").status_code == 404
    oth = client_for("staff_oth").get(f"/api/v1/persons/{person.pk}/")
    assert oth.status_code == 200
    assert oth.json()["cell"] == doc["cell"]
    # the replayed ledger agrees with the tables
    out = StringIO()
    call_command("verify-ledger", "--json", stdout=out)
    assert '"ok": true' in out.getvalue().replace('"ok":true', '"ok": true')


def test_transfer_refusals(scene: dict[str, Any], client_for: Any) -> None:
    staff = client_for("staff")
    us = scene["people"]["us"]
    outside = post(staff, TRANSFER.format(us.pk), {"to": "OTH", "at": LATER})
    assert outside.status_code == 400
    assert "not covered by agreement US-SV" in outside.json()["message"]
    same = post(staff, TRANSFER.format(us.pk), {"to": "TEC", "at": LATER})
    assert same.status_code == 400
    assert "already held in TEC" in same.json()["message"]
    nowhere = post(staff, TRANSFER.format(us.pk), {"to": "NOPE", "at": LATER})
    assert nowhere.status_code == 400
    woman = scene["people"]["gt_tec"]  # OTH holds sentenced men only (Mandela Rule 11(a))
    no_cell = post(staff, TRANSFER.format(woman.pk), {"to": "OTH", "at": LATER})
    assert no_cell.status_code == 409
    assert "no cell in OTH can take this person" in no_cell.json()["message"]
    gt_oth = scene["people"]["gt_oth"]
    assert post(staff, TRANSFER.format(gt_oth.pk), {"to": "TEC", "at": LATER}).status_code == 404
    liaison = client_for("liaison_gt")
    assert post(liaison, TRANSFER.format(gt_oth.pk), {"to": "TEC", "at": LATER}).status_code == 403
    assert not LedgerEntry.objects.filter(action="custody.transferred").exists()


def test_cli_transfer_and_release_warning(scene: dict[str, Any], mover: Any) -> None:
    person = mover
    out = StringIO()
    call_command("transfer", str(person.pk), "--to", "OTH", "--at", LATER, stdout=out)
    assert "transferred person" in out.getvalue()
    assert "to OTH" in out.getvalue()
    with pytest.raises(CommandError) as refused:
        call_command("transfer", str(person.pk), "--to", "NOPE", "--at", LATER)
    assert refused.value.returncode == 2
    us = scene["people"]["us"]
    err = StringIO()
    call_command(
        "release",
        str(us.pk),
        "--reason",
        "sentence_served",
        "--at",
        LATER,
        stdout=StringIO(),
        stderr=err,
    )
    assert "warning: The projected release date is" in err.getvalue()
