"""Scope everywhere (issue 10, deliver 1): a sending state's liaison never learns, from a
manifest report, a dry run, the decision table or a matching call, that someone outside their
scope is in the registry or in custody. The receiving facility's staff and oversight see the
real reason (Mandela Rule 9, need to know; ARCHITECTURE.md users)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import scene  # noqa: F401  (the API matrix's people, reused)
from tests.transfers.helpers import row, to_csv

ON = dt.date(2025, 3, 20)

#: A US manifest row for the person the Guatemalan agreement holds in TEC (``gt_tec``):
#: the registry finds her, in custody (rule U7), outside the US liaison's scope.
TWIN = {"sending_ref": "US-TWIN", "given_names": "Carla", "first_surname": "Tres", "sex": "F"}


@pytest.fixture
def twin(scene: dict[str, Any], actor: Any) -> dict[str, Any]:  # noqa: F811
    from habeas.transfers.services import manifest_import

    manifest = manifest_import(
        actor=actor,
        data=to_csv([row(**TWIN), row(sending_ref="US-NEW", given_names="Zenon")]),
        agreement=scene["us"],
        ref="US-TWIN-1",
        decided_on=ON,
    ).manifest
    assert manifest is not None
    return {**scene, "manifest": manifest, "hidden": scene["people"]["gt_tec"]}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _hints(text: str, person_id: int) -> list[str]:
    """Whatever in ``text`` names, counts or hints at the hidden person."""
    found = []
    for pattern in (
        rf"\bperson {person_id}\b",
        rf"\bpersona {person_id}\b",
        rf"registry id {person_id}\b",
        rf"registro {person_id}\b",
        rf"/people/{person_id}/",
        rf"#{person_id}\b",
        rf'"person": ?"{person_id}"',
        "already in custody",
        "ya está detenido",
        "possibly the same person",
        "the same person as",
    ):
        if re.search(pattern, text):
            found.append(pattern)
    return found


def _entry(report: dict[str, Any], ref: str) -> dict[str, Any]:
    (entry,) = [e for e in report["entries"] if e["sending_ref"] == ref]
    return entry


def test_liaison_report_does_not_name_a_person_held_for_another_state(
    twin: dict[str, Any], users: dict[str, Any]
) -> None:
    response = _client(users["liaison_us"]).get("/api/v1/manifests/US-TWIN-1/")
    assert response.status_code == 200
    assert _hints(response.content.decode(), twin["hidden"].pk) == []
    entry = _entry(response.json(), "US-TWIN")
    assert entry["decision"] == "needs_review"
    assert entry["person"] is None
    assert entry["candidates"] == []
    (line,) = [r for r in entry["rules"] if r["rule"] in {"U7", "U8", "registry"}]
    assert line["rule"] == "registry"
    assert line["outcome"] == "review"
    assert "receiving state" in line["message"]
    assert "Estado receptor" in line["message_es"]


def test_liaison_cannot_tell_a_hidden_match_from_no_match(
    twin: dict[str, Any], users: dict[str, Any]
) -> None:
    """The row matched to a person held for Guatemala and a row with no match at all show the
    liaison the same rule lines: rules U7 and U8 are one ``registry`` line in both, in the same
    words when it passes; only its outcome says that the first cannot be accepted."""
    report = _client(users["liaison_us"]).get("/api/v1/manifests/US-TWIN-1/").json()
    twin_rules = {r["rule"]: r for r in _entry(report, "US-TWIN")["rules"]}
    new_rules = {r["rule"]: r for r in _entry(report, "US-NEW")["rules"]}
    assert set(twin_rules) == set(new_rules)
    assert new_rules["registry"]["outcome"] == "pass"
    assert new_rules["registry"]["message"] == "checked against the registry"
    assert twin_rules["registry"]["outcome"] == "review"
    for rule, line in twin_rules.items():
        if rule != "registry":
            assert line["outcome"] == new_rules[rule]["outcome"], rule


@pytest.mark.parametrize("reader", ["staff", "oversight"])
def test_receiving_staff_and_oversight_see_the_real_reason(
    twin: dict[str, Any], users: dict[str, Any], reader: str
) -> None:
    hidden = twin["hidden"].pk
    entry = _entry(_client(users[reader]).get("/api/v1/manifests/US-TWIN-1/").json(), "US-TWIN")
    (u7,) = [r for r in entry["rules"] if r["rule"] == "U7"]
    assert f"already in custody in the registry (person {hidden}" in u7["message"]
    assert entry["candidates"][0]["person"] == str(hidden)


def test_liaison_dry_run_does_not_name_a_person_held_for_another_state(
    twin: dict[str, Any], users: dict[str, Any]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _client(users["liaison_us"]).post(
        "/api/v1/manifests/",
        {
            "file": SimpleUploadedFile("probe.csv", to_csv([row(**{**TWIN, "sending_ref": "P1"})])),
            "agreement": "US-SV",
            "dry_run": "true",
            "on": ON.isoformat(),
        },
    )
    assert response.status_code == 200, response.content
    assert _hints(response.content.decode(), twin["hidden"].pk) == []
    assert _entry(response.json(), "P1")["decision"] == "needs_review"


def test_liaison_decision_table_does_not_name_a_person_held_for_another_state(
    twin: dict[str, Any], users: dict[str, Any]
) -> None:
    response = _client(users["liaison_us"]).get("/transfers/manifests/US-TWIN-1/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _hints(html, twin["hidden"].pk) == []
    staff_html = _client(users["staff"]).get("/transfers/manifests/US-TWIN-1/").content.decode()
    assert "already in custody" in staff_html


# --- dry runs and matching calls leave a trace (issue 10, deliver 1) -------------------------


def test_dry_run_and_matching_call_go_to_the_access_log(
    twin: dict[str, Any], users: dict[str, Any]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from habeas.oversight.models import AccessLog

    liaison = _client(users["liaison_us"])
    dry = liaison.post(
        "/api/v1/manifests/",
        {
            "file": SimpleUploadedFile("probe.csv", to_csv([row(**{**TWIN, "sending_ref": "P2"})])),
            "agreement": "US-SV",
            "dry_run": "true",
            "on": ON.isoformat(),
        },
    )
    assert dry.status_code == 200
    match = liaison.post(
        "/api/v1/matching/",
        {"given_names": "Carla", "first_surname": "Tres", "date_of_birth": "1990-05-17"},
        content_type="application/json",
    )
    assert match.status_code == 200
    assert match.json() == []  # held for Guatemala: never answered to the US liaison
    logged = list(AccessLog.objects.filter(username="liaison_us").order_by("pk"))
    assert [(a.query, a.channel, a.role, a.person_id) for a in logged] == [
        ("dry_run", "api", "liaison", None),
        ("matching", "api", "liaison", None),
    ]
    assert logged[0].subject == "US-SV probe.csv (1 rows)"
    assert logged[1].subject == "answered: none"

    listed = _client(users["oversight"]).get("/api/v1/access-log/?username=liaison_us").json()
    assert [(a["query"], a["person"]) for a in listed["items"]] == [
        ("matching", None),
        ("dry_run", None),
    ]
    page = _client(users["oversight"]).get("/oversight/access-log/?username=liaison_us")
    assert "Manifest dry run" in page.content.decode()


def test_a_probe_in_the_access_log_cannot_be_changed(
    twin: dict[str, Any], users: dict[str, Any]
) -> None:
    from django.db import DatabaseError, transaction

    from habeas.oversight.models import AccessLog

    _client(users["liaison_us"]).post(
        "/api/v1/matching/",
        {"given_names": "Ana", "first_surname": "Uno"},
        content_type="application/json",
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(query="matching").update(subject="nothing")
