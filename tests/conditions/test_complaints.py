"""Complaints and requests (Mandela Rules 56-57): deadlines, steps, confidentiality by every
path (acceptance: "Facility staff cannot see a confidential complaint by any path: list,
detail, count, search, API or export") and the retaliation alert (rule A7, Rule 57(2))."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import scene  # noqa: F401  (people in TEC and OTH)

SECRET = "Beaten by custodian Zorro-77 during the search"
OPEN_TEXT = "Asks for a mattress"
DAY = dt.timedelta(days=1)


def _file(actor: Any, person: Any, facility: Any, **kw: Any) -> Any:
    from habeas.conditions.complaints import complaint_file

    return complaint_file(
        actor=actor,
        person=person,
        facility=facility,
        kind=kw.pop("kind", "complaint"),
        category=kw.pop("category", "ill_treatment"),
        text=kw.pop("text", OPEN_TEXT),
        **kw,
    )


def _move(actor: Any, person: Any, at: dt.datetime) -> None:
    """Move ``person`` to any other cell of their facility that lawfully takes them."""
    from habeas.core.errors import ApplicationError
    from habeas.custody.models import CustodyEpisode
    from habeas.facilities.models import Cell
    from habeas.housing.models import Placement
    from habeas.housing.placements import placement_move

    episode = CustodyEpisode.objects.open().get(person=person)
    current = Placement.objects.get(episode=episode, ended_at__isnull=True)
    for cell in Cell.objects.filter(module__facility_id=episode.facility_id).exclude(
        pk=current.cell_id
    ):
        try:
            placement_move(actor=actor, person=person, cell=cell, at=at, reason="security")
        except ApplicationError:
            continue
        return
    raise AssertionError("no cell takes the person")


# --- deadlines and steps ---------------------------------------------------------------------


def test_deadlines_follow_settings_and_overdue_shows(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
    settings: Any,
) -> None:
    from habeas.conditions.complaints import complaint_set_status, overdue
    from habeas.core.clock import now

    settings.HABEAS_COMPLAINT_ACKNOWLEDGE_DAYS = 3
    settings.HABEAS_COMPLAINT_ANSWER_DAYS = 10
    received = now() - 4 * DAY
    c = _file(actor, scene["people"]["us"], scene["tec"], received_at=received)
    assert c.acknowledge_by == received + 3 * DAY
    assert c.answer_by == received + 10 * DAY
    assert overdue(c) == "acknowledge"
    assert overdue(c, at=received + 3 * DAY - dt.timedelta(seconds=1)) == ""
    c = complaint_set_status(actor=actor, complaint=c, status="under_review")
    assert overdue(c) == ""
    assert overdue(c, at=received + 10 * DAY + dt.timedelta(seconds=1)) == "answer"


def test_steps_refuse_going_back_and_answer_needs_text(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.conditions.complaints import complaint_set_status
    from habeas.core.errors import Conflict, ValidationFailed

    c = _file(actor, scene["people"]["us"], scene["tec"], kind="request", category="contact")
    with pytest.raises(ValidationFailed, match="answer needs its text"):
        complaint_set_status(actor=actor, complaint=c, status="answered")
    c = complaint_set_status(actor=actor, complaint=c, status="answered", answer="Granted")
    assert c.acknowledged_at == c.answered_at
    with pytest.raises(Conflict, match="cannot become under_review"):
        complaint_set_status(actor=actor, complaint=c, status="under_review")
    assert complaint_set_status(actor=actor, complaint=c, status="closed").closed_at


def test_complaint_must_be_of_someone_held_there(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="is not held in TEC"):
        _file(actor, scene["people"]["gt_oth"], scene["tec"])


def test_text_is_a_commitment_and_never_in_the_persons_history(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.custody.selectors import person_history
    from habeas.ledger.models import LedgerEntry

    person = scene["people"]["us"]
    c = _file(actor, person, scene["tec"], text=SECRET, confidential=True)
    entry = LedgerEntry.objects.get(action="conditions.complaint_filed")
    assert entry.subject == f"complaint:{c.pk}"
    assert entry.payload["text"].startswith("hmac-sha256:")
    assert "conditions.complaint_filed" not in {e.action for e in person_history(person)}


# --- confidentiality: every path, as facility staff ------------------------------------------


@pytest.fixture
def confidential(scene: dict[str, Any], users: dict[str, Any], actor: Any) -> dict[str, Any]:  # noqa: F811
    """In TEC: a confidential complaint (registered by oversight), an open one, and the
    confidential complainant moved two days later (the retaliation alert opens)."""
    from habeas.core.actor import Actor
    from habeas.core.clock import now

    person = scene["people"]["us"]
    secret = _file(
        Actor.from_user(users["oversight"]),
        person,
        scene["tec"],
        text=SECRET,
        confidential=True,
        received_at=now() - 5 * DAY,
    )
    public = _file(actor, scene["people"]["gt_tec"], scene["tec"], category="conditions")
    _move(actor, person, now() - 2 * DAY)
    return {"secret": secret, "public": public, "person": person, "users": users}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_facility_staff_cannot_see_a_confidential_complaint_by_any_path(
    confidential: dict[str, Any], who: str
) -> None:
    from habeas.conditions.alerts import alerts_for
    from habeas.conditions.cases_selectors import complaint_counts, complaint_list

    user = confidential["users"][who]
    secret, public = confidential["secret"], confidential["public"]
    client = _client(user)
    marks = [SECRET, "Zorro-77", f"/alerts/complaints/{secret.pk}/"]

    def hidden(body: str) -> None:
        for mark in marks:
            assert mark not in body

    # list, search, filters, counts (page)
    page = client.get("/alerts/complaints/").content.decode()
    assert f"/alerts/complaints/{public.pk}/" in page
    hidden(page)
    assert "confidential" not in page.lower()
    for query in ("?q=Zorro", "?q=Beaten", f"?q={secret.pk}", f"?q={secret.person_id}",
                  "?status=received", "?overdue=1"):  # fmt: skip
        hidden(client.get("/alerts/complaints/" + query).content.decode())
    assert complaint_counts(user)["total"] == 1
    assert complaint_list(user, q="Zorro").count() == 0
    # detail by id: the same 404 as a missing one
    assert client.get(f"/alerts/complaints/{secret.pk}/").status_code == 404
    assert client.get("/alerts/complaints/999999/").status_code == 404
    assert client.post(f"/alerts/complaints/{secret.pk}/", {"status": "closed"}).status_code == 404
    # export
    csv = client.get("/alerts/complaints.csv").content.decode()
    assert csv.count("\n") == 2  # the header and the open complaint
    hidden(csv)
    # API list, search and detail
    api = client.get("/api/v1/complaints").json()
    assert api["count"] == 1
    assert [c["id"] for c in api["complaints"]] == [str(public.pk)]
    assert client.get("/api/v1/complaints?q=Zorro").json()["count"] == 0
    assert client.get(f"/api/v1/complaints/{secret.pk}").status_code == 404
    # the person's page, file (JSON) and PDF
    person = confidential["person"]
    hidden(client.get(f"/people/{person.pk}/").content.decode())
    assert "Complaint or request" not in client.get(f"/people/{person.pk}/").content.decode()
    hidden(client.get(f"/api/v1/persons/{person.pk}/").content.decode())
    assert client.get(f"/people/{person.pk}/file.pdf").status_code == 200
    # alerts: the retaliation alert would reveal it
    assert [a for a in alerts_for(user=user) if a.kind == "retaliation"] == []
    hidden(client.get("/alerts/?kind=retaliation").content.decode())
    assert all(a["kind"] != "retaliation" for a in client.get("/api/v1/alerts").json()["alerts"])
    hidden(client.get("/").content.decode())


def test_oversight_sees_the_confidential_complaint_and_the_alert(
    confidential: dict[str, Any],
) -> None:
    secret = confidential["secret"]
    client = _client(confidential["users"]["oversight"])
    page = client.get("/alerts/complaints/?q=Zorro").content.decode()
    assert f"/alerts/complaints/{secret.pk}/" in page
    assert SECRET in client.get(f"/alerts/complaints/{secret.pk}/").content.decode()
    assert client.get("/api/v1/complaints").json()["count"] == 2
    assert client.get(f"/api/v1/complaints/{secret.pk}").json()["confidential"] is True
    assert str(secret.pk) in client.get("/alerts/complaints.csv").content.decode()
    alerts = client.get("/api/v1/alerts?kind=retaliation").json()["alerts"]
    assert [a["subject"] for a in alerts] == [f"complaint:{secret.pk}"]
    assert alerts[0]["rule"] == "A7"
    assert "Possible retaliation" in client.get("/alerts/").content.decode()


@pytest.mark.parametrize("who", ["liaison_us", "finance_us", "auditor"])
def test_liaison_finance_and_auditor_see_no_complaint(
    confidential: dict[str, Any], who: str
) -> None:
    client = _client(confidential["users"][who])
    assert client.get("/alerts/complaints/").status_code == 404
    assert client.get(f"/alerts/complaints/{confidential['public'].pk}/").status_code == 404
    assert client.get("/alerts/complaints.csv").status_code == 404
    assert client.get("/api/v1/complaints").status_code == 403
    assert client.get(f"/api/v1/complaints/{confidential['public'].pk}").status_code == 403


def test_staff_cannot_file_a_confidential_complaint_through_the_api(
    scene: dict[str, Any],  # noqa: F811
    users: dict[str, Any],
) -> None:
    client = _client(users["staff"])
    body = {
        "person": str(scene["people"]["us"].pk),
        "facility": "TEC",
        "category": "health",
        "text": "Needs a doctor",
    }
    assert client.post("/api/v1/complaints", {**body, "confidential": True},
                       content_type="application/json").status_code == 403  # fmt: skip
    made = client.post("/api/v1/complaints", body, content_type="application/json")
    assert made.status_code == 201
    assert made.json()["answer_by"]


# --- the retaliation alert (rule A7) --------------------------------------------------------


def _retaliation() -> list[Any]:
    from habeas.conditions.alerts import alerts_for

    return alerts_for(kinds=["retaliation"])


def test_retaliation_opens_on_a_move_after_the_complaint(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.core.clock import now

    person = scene["people"]["us"]
    c = _file(actor, person, scene["tec"], received_at=now() - 5 * DAY)
    assert _retaliation() == []  # no move: no alert
    _move(actor, person, now() - 2 * DAY)
    (alert,) = _retaliation()
    assert alert.subject == f"complaint:{c.pk}"
    assert alert.value == "move"
    assert alert.person_id == person.pk


def test_no_retaliation_for_a_move_before_the_complaint(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.core.clock import now

    person = scene["people"]["us"]
    _move(actor, person, now() - 5 * DAY)
    _file(actor, person, scene["tec"], received_at=now() - 4 * DAY)
    assert _retaliation() == []


def test_no_retaliation_for_a_move_31_days_after(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.core.clock import now

    person = scene["people"]["us"]
    received = now() - 40 * DAY
    _file(actor, person, scene["tec"], received_at=received)
    _move(actor, person, received + 31 * DAY)
    assert _retaliation() == []


def test_retaliation_on_a_sanction_and_a_transfer(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.conditions.incidents import sanction_impose
    from habeas.core.clock import now
    from habeas.custody.services import custody_release

    us, gt = scene["people"]["us"], scene["people"]["gt_tec"]
    _file(actor, us, scene["tec"], received_at=now() - 6 * DAY)
    _file(actor, gt, scene["tec"], received_at=now() - 6 * DAY)
    sanction_impose(
        actor=actor,
        person=us,
        facility=scene["tec"],
        measure="loss_of_privileges",
        reason="late at the count",
        starts_at=now() - 3 * DAY,
        ends_at=now() + 3 * DAY,
    )
    custody_release(actor=actor, person=gt, reason="transferred", at=now() - DAY)
    assert sorted((a.person_id, a.value) for a in _retaliation()) == sorted(
        [(us.pk, "sanction"), (gt.pk, "transfer")]
    )


def test_retaliation_on_a_transfer_to_another_facility(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.core.clock import now
    from habeas.housing.relocation import custody_transfer
    from tests.conftest import admit, make_person

    us = make_person(actor, given_names="Local")
    admit(actor, us, scene["tec"], None, cell="M1-03")
    c = _file(actor, us, scene["tec"], received_at=now() - 6 * DAY)
    custody_transfer(actor=actor, person=us, facility=scene["oth"], at=now() - DAY)
    (alert,) = _retaliation()
    assert (alert.subject, alert.value, alert.facility) == (f"complaint:{c.pk}", "transfer", "TEC")
