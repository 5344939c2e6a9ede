"""Oversight pages (issue 5 item 5) and the access log (item 4; Mandela Rules 6 and 9):
roles matrix, ledger status, deaths without medical detail, the append-only access log with
filters, the person's file as PDF."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from habeas.core.clock import now
from habeas.ledger.models import LedgerCheckpoint, LedgerVerification
from habeas.oversight.models import AccessLog
from habeas.oversight.services import access_log_record

ROLES_ALLOWED = {"oversight", "auditor"}
ROLES_REFUSED = {"staff", "staff_oth", "admin", "liaison_us", "finance_us", "norole"}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["oversight:home", "oversight:access_log"])
@pytest.mark.parametrize("who", sorted(ROLES_ALLOWED | ROLES_REFUSED | {"anonymous"}))
def test_oversight_pages_roles(
    scene: dict[str, Any], client_for: Any, url_name: str, who: str
) -> None:
    response = client_for(who).get(reverse(url_name))
    if who == "anonymous":
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    elif who in ROLES_ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("oversight", 200),
        ("auditor", 200),
        ("staff", 403),
        ("liaison_us", 403),
        ("finance_us", 403),
        ("admin", 403),
        ("norole", 403),
        ("anonymous", 401),
    ],
)
def test_access_log_api_roles(
    scene: dict[str, Any], client_for: Any, who: str, status: int
) -> None:
    assert client_for(who).get("/api/v1/access-log/").status_code == status


@pytest.mark.django_db
def test_home_shows_ledger_status_and_deaths_without_medical_detail(
    scene: dict[str, Any], client_for: Any, actor: Any
) -> None:
    from habeas.custody.services import custody_release
    from habeas.ledger.services import ledger_root, ledger_size

    custody_release(
        actor=actor,
        person=scene["namesake"],
        reason="death",
        at=now() - dt.timedelta(days=1),
        note="cardiac arrest, autopsy pending",
    )
    size = ledger_size()
    LedgerCheckpoint.objects.create(
        size=size, root=ledger_root(size).hex(), text="x", created_at=now()
    )
    LedgerVerification.objects.create(
        ran_at=now(),
        size=size,
        root="ab",
        ok=False,
        problems=[{"where": "entry 3", "message": "hash differs"}],
    )
    body = client_for("oversight").get(reverse("oversight:home")).content.decode()
    assert "José Hernández López" in body  # the death is listed
    assert "cardiac" not in body
    assert "autopsy" not in body
    assert ledger_root(size).hex() in body
    assert "entry 3" in body
    assert "hash differs" in body
    assert "Test centre" in body
    assert "Other centre" in body


@pytest.mark.django_db
def test_access_log_record_snapshots_user_and_role(scene: dict[str, Any], users: Any) -> None:
    row = access_log_record(user=users["staff"], person=scene["jose"], channel="web")
    assert (row.username, row.role, row.person_id, row.channel) == (
        "staff",
        "facility_staff",
        scene["jose"].pk,
        "web",
    )
    with pytest.raises(ValueError, match="channel"):
        access_log_record(user=users["staff"], person=scene["jose"], channel="telepathy")


@pytest.mark.django_db
def test_access_log_is_append_only(scene: dict[str, Any], users: Any) -> None:
    row = access_log_record(user=users["staff"], person=scene["jose"], channel="api")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(username="someone-else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    assert AccessLog.objects.get(pk=row.pk).username == "staff"


@pytest.mark.django_db
def test_access_log_page_filters(scene: dict[str, Any], users: Any, client_for: Any) -> None:
    access_log_record(user=users["staff"], person=scene["jose"], channel="web")
    access_log_record(user=users["liaison_us"], person=scene["luis"], channel="api")
    access_log_record(user=users["auditor"], person=scene["carla"], channel="pdf")
    client = client_for("oversight")
    everything = client.get(reverse("oversight:access_log")).content.decode()
    assert "liaison_us" in everything
    assert "Carlos de la Cruz y Pérez" in everything
    only_staff = client.get(reverse("oversight:access_log"), {"username": "staff"})
    body = only_staff.content.decode()
    assert "José Alberto Hernández Ramírez" in body
    assert "Luis Pérez" not in body
    by_person = client.get(reverse("oversight:access_log"), {"person": scene["luis"].pk})
    assert "liaison_us" in by_person.content.decode()
    assert "José Alberto" not in by_person.content.decode()
    api = client.get("/api/v1/access-log/", {"channel": "pdf"}).json()
    assert [(e["username"], e["channel"]) for e in api["items"]] == [("auditor", "pdf")]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["staff", "oversight", "liaison_us"])
def test_person_file_pdf_is_scoped_and_logged(
    scene: dict[str, Any], client_for: Any, who: str
) -> None:
    url = reverse("oversight:person_file_pdf", args=[scene["jose"].pk])
    response = client_for(who).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    log = AccessLog.objects.get()
    assert (log.username, log.channel, log.person_id) == (who, "pdf", scene["jose"].pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("staff_oth", 404), ("liaison_gt", 404), ("norole", 403)]
)
def test_person_file_pdf_out_of_scope_is_404_and_not_logged(
    scene: dict[str, Any], client_for: Any, who: str, status: int
) -> None:
    """Out of scope: the 404 of a missing file; an account without a role: 403 for both."""
    url = reverse("oversight:person_file_pdf", args=[scene["jose"].pk])
    assert client_for(who).get(url).status_code == status
    assert (
        client_for(who).get(reverse("oversight:person_file_pdf", args=[999999])).status_code
        == status
    )
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_person_file_pdf_anonymous_goes_to_login(scene: dict[str, Any]) -> None:
    url = reverse("oversight:person_file_pdf", args=[scene["jose"].pk])
    response = Client().get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_pdf_renders_without_the_unicode_font(monkeypatch: Any, db: Any) -> None:
    from pathlib import Path

    from habeas.core import pdf as pdf_base
    from habeas.oversight import pdf

    monkeypatch.setattr(pdf_base, "FONT_REGULAR", Path("/nonexistent.ttf"))
    document = {
        "id": "1",
        "sending_refs": ["A1"],
        "names": {
            "given_names": "Łukasz Ñandú",
            "first_surname": "Żółw",
            "second_surname": "",
            "aliases": [],
        },
        "date_of_birth": "1990",
        "sex": "M",
        "nationalities": ["PL"],
        "legal_bases": [],
        "custody": [],
        "cell": None,
        "release_date": None,
        "alarms": [],
    }
    out = pdf.person_file_pdf(document, user=None, full_name="Łukasz Ñandú Żółw")
    assert out.startswith(b"%PDF")
