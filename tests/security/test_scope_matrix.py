"""Every role × every document that can name a person (issue 10, deliver 1: "prove this with a
role × document test matrix"; the pages × roles and API × roles matrices' style: one table, one
generated check per column).

The scene: ``hidden`` (Carla Tres) is held in TEC under the Guatemalan agreement; a United
States manifest (``US-TWIN-1``) has a row the registry matches to her, in custody (rule U7),
and a row admitted as a new person whose Rule 7 record notes an injury and a relative's phone.
``spent`` (Elio Cinco) is held in TEC under the Guatemalan agreement on a sentence already
served (alert A4, which names her).

Outcomes:

* ``full`` the document as stored: the hidden person named (U7's reason, the candidate, the
  matching answer, the alert), or the Rule 7 record with injuries and contacts;
* ``redacted`` shown (200), with nothing that names, counts or hints at the hidden person, or
  the Rule 7 record (its existence and completeness) without injuries, complaints and
  relatives' contacts;
* ``403`` the role may not use the document at all (an account without a role, a role that
  only reads asked for a dry run); ``404`` outside the reader's scope, as a missing one;
  ``401`` not signed in (the API).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.api.conftest import scene  # noqa: F401  (the API matrix's people, reused)
from tests.conftest import admit, make_person, sentence
from tests.security.test_scope_documents import ON, TWIN, _hints
from tests.transfers.helpers import row, to_csv

TABLE = """
document     anonymous staff    staff_oth admin liaison_us liaison_gt finance_us oversight auditor inspector norole
api_report   401       full     404       full  redacted   404        redacted   full      full    full      403
api_dry_run  401       full     404       full  redacted   404        403        403       403     403       403
web_report   login     full     404       full  redacted   404        redacted   full      full    full      403
api_matching 401       full     redacted  full  redacted   full       redacted   full      full    full      403
api_person   401       full     404       full  404        full       404        full      full    full      403
web_person   login     full     404       full  404        full       404        full      full    full      403
api_alerts   401       full     redacted  full  redacted   full       redacted   full      full    full      403
web_alerts   login     full     redacted  full  redacted   full       redacted   full      full    full      403
web_rule7    login     full     404       full  redacted   404        404        full      full    full      403
"""

ARRIVED = dt.datetime(2025, 3, 21, 20, 5, tzinfo=dt.UTC)
INJURY = "bruise on the left forearm"
RELATIVE_PHONE = "+50370001234"


def _parse(table: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, body = lines[0][1:], lines[1:]
    rows = {}
    for line in body:
        assert len(line) - 1 == len(header), f"row {line[0]} has {len(line) - 1} columns"
        rows[line[0]] = dict(zip(header, line[1:], strict=True))
    return header, rows


COLUMNS, ROWS = _parse(TABLE)


def test_table_covers_every_user_of_the_fixture(users: dict[str, Any]) -> None:
    assert set(COLUMNS) == {*users, "anonymous"}


@pytest.fixture
def documents(scene: dict[str, Any], actor: Any) -> dict[str, Any]:  # noqa: F811
    from habeas.transfers.services import (
        admission_record_update,
        manifest_accept,
        manifest_admit,
        manifest_import,
    )

    manifest = manifest_import(
        actor=actor,
        data=to_csv([row(**TWIN), row(sending_ref="US-NEW", given_names="Zenon")]),
        agreement=scene["us"],
        ref="US-TWIN-1",
        decided_on=ON,
    ).manifest
    assert manifest is not None
    manifest_accept(actor=actor, manifest=manifest, only=["US-NEW"])
    (episode,) = manifest_admit(actor=actor, manifest=manifest, arrived_at=ARRIVED)
    record = admission_record_update(
        actor=actor,
        record=episode.admission_record,
        complete=True,
        visible_injuries=INJURY,
        ill_treatment_complaint="beaten during the flight",
        contact_name="Marta Zenon",
        contact_phone=RELATIVE_PHONE,
    )
    spent = make_person(actor, given_names="Elio", first_surname="Cinco", authority="GT")
    admit(
        actor,
        spent,
        scene["tec"],
        scene["gt"],
        bases=[sentence("P1Y", start=dt.date(2023, 1, 1))],
        at=dt.datetime(2025, 3, 16, 9, 0, tzinfo=dt.UTC),
    )
    return {"hidden": scene["people"]["gt_tec"], "spent": spent, "record": record.pk}


def _dry_run(client: Client) -> Any:
    return client.post(
        "/api/v1/manifests/",
        {
            "file": SimpleUploadedFile("probe.csv", to_csv([row(**{**TWIN, "sending_ref": "P3"})])),
            "agreement": "US-SV",
            "dry_run": "true",
            "on": ON.isoformat(),
        },
    )


def _read(document: str, client: Client, docs: dict[str, Any]) -> tuple[Any, str]:
    """The response and what marks the document as shown (present in every 200)."""
    hidden = docs["hidden"].pk
    if document == "api_report":
        return client.get("/api/v1/manifests/US-TWIN-1/"), "US-TWIN"
    if document == "api_dry_run":
        return _dry_run(client), "P3"
    if document == "web_report":
        return client.get("/transfers/manifests/US-TWIN-1/"), "US-TWIN"
    if document == "api_matching":
        body = {"given_names": "Carla", "first_surname": "Tres", "date_of_birth": "1990-05-17"}
        return client.post("/api/v1/matching/", body, content_type="application/json"), "["
    if document == "api_person":
        return client.get(f"/api/v1/persons/{hidden}/"), "Carla"
    if document == "web_person":
        return client.get(f"/people/{hidden}/"), "Carla"
    if document == "api_alerts":
        return client.get("/api/v1/alerts"), "alerts"
    if document == "web_alerts":
        return client.get("/alerts/"), "Alerts"
    if document == "web_rule7":
        return client.get(f"/transfers/admissions/{docs['record']}/"), "Mandela Rule 7"
    raise AssertionError(document)


def _full(document: str, text: str, docs: dict[str, Any]) -> bool:
    """Whether ``text`` shows what only a reader with the whole scope may see."""
    hidden = docs["hidden"].pk
    if document in {"api_report", "api_dry_run", "web_report"}:
        return "already in custody in the registry (person" in text
    if document == "api_matching":
        return f'"person": "{hidden}"' in text.replace('":"', '": "')
    if document in {"api_person", "web_person"}:
        return "Tres" in text
    if document in {"api_alerts", "web_alerts"}:
        return "Elio Cinco" in text
    if document == "web_rule7":
        return INJURY in text and RELATIVE_PHONE in text
    raise AssertionError(document)


def _outcome(document: str, response: Any, docs: dict[str, Any], shown: str) -> str:
    status = response.status_code
    if status == 302 and response["Location"].startswith("/login/"):
        return "login"
    if status != 200:
        return str(status)
    text = response.content.decode()
    assert shown in text, f"{document}: the document itself is missing"
    if _full(document, text, docs):
        return "full"
    leaks = _hints(text, docs["hidden"].pk) + [
        word
        for word in ("Elio Cinco", INJURY, RELATIVE_PHONE, "beaten during", "Marta Zenon")
        if word in text
    ]
    assert leaks == [], f"{document}: redacted, yet {leaks}"
    if document == "web_rule7":
        assert "complete" in text  # the record exists and says whether it is complete
    return "redacted"


@pytest.mark.parametrize("user", COLUMNS)
def test_scope(documents: dict[str, Any], users: dict[str, Any], user: str) -> None:
    """One test per column; every mismatching cell is reported."""
    client = Client()
    if user != "anonymous":
        client.force_login(users[user])
    wrong = []
    for document, outcomes in ROWS.items():
        response, shown = _read(document, client, documents)
        got = _outcome(document, response, documents, shown)
        if got != outcomes[user]:
            wrong.append(f"{document} as {user}: expected {outcomes[user]}, got {got}")
    assert not wrong, "\n".join(wrong)
