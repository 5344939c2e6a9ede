"""Intake pages and API through HTTP: upload, refused file (400 with every problem), decision
table with escaped names, accept selected, history, the Rule 7 form; scoping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.transfers.helpers import ON, row, to_csv

pytestmark = pytest.mark.urls("tests.transfers.urls")


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def upload(client: Client, data: bytes, **extra: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/v1/manifests/",
        {
            "file": SimpleUploadedFile("m.csv", data, content_type="text/csv"),
            "agreement": "US-SV",
            "on": ON,
            **extra,
        },
    )


def test_api_import_accept_admit(world: Any, users: Any) -> None:
    staff = login(users["staff"])
    r = upload(
        staff,
        to_csv([row(), row(sending_ref="A2", given_names="Luis", first_surname="Mora")]),
        ref="API1",
    )
    assert r.status_code == 200, r.content
    doc = r.json()
    assert doc["counts"]["eligible"] == 2
    r = staff.post(
        "/api/v1/manifests/API1/accept",
        json.dumps({"only": ["A2"]}),
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()["accepted"] == ["A2"]
    r = staff.post(
        "/api/v1/manifests/API1/admit",
        json.dumps({"arrived_at": "2025-03-21T14:05:00-06:00"}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert len(r.json()["admitted"]) == 1
    r = staff.post(
        "/api/v1/matching/",
        json.dumps({"given_names": "LUIS", "first_surname": "MORA", "date_of_birth": "1990"}),
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()[0]["band"] in {"same", "possible"}


def test_api_refused_file_is_400_with_every_problem(world: Any, users: Any) -> None:
    r = upload(login(users["staff"]), to_csv([row(), row()]))
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "manifest_refused"
    assert body["details"]["problems"] == [
        {"row": 2, "column": "sending_ref", "message": "'A100' already given on row 1"}
    ]


def test_api_scope_and_roles(world: Any, users: Any) -> None:
    upload(login(users["liaison_us"]), to_csv([row()]), ref="L1")
    assert login(users["liaison_gt"]).get("/api/v1/manifests/L1/").status_code == 404
    r = login(users["liaison_us"]).post(
        "/api/v1/manifests/L1/accept",
        json.dumps({"all_eligible": True}),
        content_type="application/json",
    )
    assert r.status_code == 403
    assert upload(login(users["liaison_gt"]), to_csv([row()])).status_code == 404


def test_pages_escape_names_and_accept_selected(world: Any, users: Any) -> None:
    staff = login(users["staff"])
    upload(
        staff,
        to_csv(
            [
                row(given_names="<script>alert(1)</script>"),
                row(sending_ref="A2", given_names="Luis"),
            ]
        ),
        ref="W1",
    )
    page = staff.get("/transfers/manifests/W1/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Valid commitment order" in html  # the rule by name, not "U1"
    assert "Mandela Rule 7(1)" in html
    assert staff.get("/transfers/manifests/W1/?decision=ineligible").status_code == 200
    r = staff.post("/transfers/manifests/W1/accept/", {"only": ["A2"]})
    assert r.status_code == 302
    from habeas.transfers.models import ManifestEntry

    assert ManifestEntry.objects.get(sending_ref="A2").status == "accepted"
    assert staff.get("/transfers/manifests/W1/history/").status_code == 200
    assert staff.get("/transfers/").status_code == 200
    assert login(users["liaison_gt"]).get("/transfers/manifests/W1/").status_code == 404


def test_upload_page_lists_problems(world: Any, users: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    staff = login(users["staff"])
    r = staff.post(
        "/transfers/",
        {
            "file": SimpleUploadedFile("x.csv", b"sending_ref,colour\nA,blue\n"),
            "agreement": "US-SV",
        },
    )
    assert r.status_code == 200
    assert "unknown column" in r.content.decode()


def test_admission_form(world: Any, users: Any, actor: Any) -> None:
    from habeas.transfers.models import AdmissionRecord

    staff = login(users["staff"])
    upload(staff, to_csv([row()]), ref="AD1")
    staff.post(
        "/api/v1/manifests/AD1/accept",
        json.dumps({"all_eligible": True}),
        content_type="application/json",
    )
    staff.post(
        "/api/v1/manifests/AD1/admit",
        json.dumps({"arrived_at": "2025-03-21T14:05:00-06:00"}),
        content_type="application/json",
    )
    record = AdmissionRecord.objects.get()
    url = f"/transfers/admissions/{record.pk}/"
    assert staff.get(url).status_code == 200
    r = staff.post(
        url,
        {
            "rights_language": "es",
            "visible_injuries": "none",
            "complete": "on",
            "property_items": '[{"item": "watch"}]',
            "family": "[]",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    record.refresh_from_db()
    assert record.version == 2
    assert record.property_items == [{"item": "watch"}]
    assert login(users["staff_oth"]).get(url).status_code == 404
