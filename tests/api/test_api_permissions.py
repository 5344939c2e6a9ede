"""Every endpoint × every role (NetBox style): one table, one generated test per cell.

Rows are endpoints (``POST:/path`` sends an empty JSON body: 400 means the user got past
authentication and scope to input validation), columns the users of the ``users`` fixture plus ``anonymous``. 200 means
the user may read it; 401 not signed in; 403 signed in without a role; 404 outside the user's
scope, which must be indistinguishable from missing (Zulip ``access_stream_by_id``).
"""

from __future__ import annotations

from typing import Any

import pytest

TABLE = """
endpoint        path                                   anonymous staff staff_oth admin liaison_us liaison_gt finance_us oversight auditor inspector norole
persons         /api/v1/persons/                       401       200   200       200   200        200        200        200       200     200       403
persons_q       /api/v1/persons/?q=Uno                 401       200   200       200   200        200        200        200       200     200       403
person_us       /api/v1/persons/{p_us}/                401       200   404       200   200        404        200        200       200     200       403
person_gt_oth   /api/v1/persons/{p_gt_oth}/            401       404   200       404   404        200        404        200       200     404       403
person_gt_tec   /api/v1/persons/{p_gt_tec}/            401       200   404       200   404        200        404        200       200     200       403
person_moved    /api/v1/persons/{p_moved}/             401       200   200       200   200        200        200        200       200     200       403
person_missing  /api/v1/persons/999999999/             401       404   404       404   404        404        404        404       404     404       403
person_bad_id   /api/v1/persons/not-a-number/          401       404   404       404   404        404        404        404       404     404       403
episodes        /api/v1/custody-episodes/              401       200   200       200   200        200        200        200       200     200       403
releases_due    /api/v1/releases-due?days=60           401       200   200       200   200        200        200        200       200     200       403
custody_check   POST:/api/v1/custody-checks            401       403   403       200   403        403        403        403       403     403       403
episodes_open   /api/v1/custody-episodes/?open=true    401       200   200       200   200        200        200        200       200     200       403
episode_us      /api/v1/custody-episodes/{e_us}/       401       200   404       200   200        404        200        200       200     200       403
episode_gt_oth  /api/v1/custody-episodes/{e_gt_oth}/   401       404   200       404   404        200        404        200       200     404       403
episode_gt_tec  /api/v1/custody-episodes/{e_gt_tec}/   401       200   404       200   404        200        404        200       200     200       403
episode_missing /api/v1/custody-episodes/999999999/    401       404   404       404   404        404        404        404       404     404       403
facilities      /api/v1/facilities/                    401       200   200       200   200        200        200        200       200     200       403
facility_tec    /api/v1/facilities/TEC/                401       200   404       200   200        200        200        200       200     200       403
facility_oth    /api/v1/facilities/OTH/                401       404   200       404   404        200        404        200       200     404       403
facility_none   /api/v1/facilities/NOPE/               401       404   404       404   404        404        404        404       404     404       403
agreements      /api/v1/agreements/                    401       200   200       200   200        200        200        200       200     200       403
agreement_us    /api/v1/agreements/US-SV/              401       200   404       200   200        404        200        200       200     200       403
agreement_gt    /api/v1/agreements/GT-SV/              401       200   200       200   404        200        404        200       200     200       403
keep_aparts     /api/v1/keep-aparts/                   401       200   200       200   403        403        403        200       200     200       403
keep_aparts_o   /api/v1/keep-aparts/?open=true         401       200   200       200   403        403        403        200       200     200       403
keep_apart_none /api/v1/keep-aparts/999999999/         401       404   404       404   403        403        403        404       404     404       403
roll_tec        /api/v1/facilities/TEC/roll            401       200   404       200   403        403        403        200       200     200       403
roll_oth        /api/v1/facilities/OTH/roll            401       404   200       404   403        403        403        200       200     404       403
roll_counts     /api/v1/facilities/TEC/roll-counts/    401       200   404       200   403        403        403        200       200     200       403
cell_tec        /api/v1/facilities/TEC/cells/M1-01/    401       200   404       200   403        403        403        200       200     200       403
cell_none       /api/v1/facilities/TEC/cells/NOPE/     401       404   404       404   403        403        403        404       404     404       403
cell_certs      /api/v1/facilities/TEC/cells/M1-01/certifications/ 401 200 404 200 403        403        403        200       200     200       403
cell_deact      /api/v1/facilities/TEC/cells/M1-01/deactivation 401 200 404 200 403           403        403        200       200     200       403
suggest_us      /api/v1/persons/{p_us}/placement-suggestion 401  200   404       200   403        403        403        200       200     200       403
suggest_gt_oth  /api/v1/persons/{p_gt_oth}/placement-suggestion 401 404 200     404   403        403        403        200       200     404       403
moves_us        /api/v1/persons/{p_us}/moves/          401       200   404       200   403        403        403        200       200     200       403
absences_us     /api/v1/persons/{p_us}/absences/       401       200   404       200   403        403        403        200       200     200       403
absences_gt_oth /api/v1/persons/{p_gt_oth}/absences/   401       404   200       404   403        403        403        200       200     404       403
absence_start   POST:/api/v1/persons/{p_us}/absences/  401       400   400       400   400        400        400        400       400     400       403
release_us      POST:/api/v1/persons/{p_us}/release    401       400   400       400   400        400        400        400       400     400       403
transfer_us     POST:/api/v1/persons/{p_us}/transfer   401       400   400       400   400        400        400        400       400     400       403
absence_return  POST:/api/v1/persons/{p_us}/absences/999999999/return 401 404 404 404 403      403        403        403       403     403       403
housing_plan    /api/v1/facilities/TEC/housing-plan?time_limit=2 401 200 404 200 403         403        403        200       200     200       403
ledger_size     /api/v1/ledger/size                    200       200   200       200   200        200        200        200       200     200       200
ledger_head     /api/v1/ledger/tree-head               200       200   200       200   200        200        200        200       200     200       200
ledger_key      /api/v1/ledger/public-key              200       200   200       200   200        200        200        200       200     200       200
ledger_cp_none  /api/v1/ledger/checkpoint              404       404   404       404   404        404        404        404       404     404       404
ledger_incl     /api/v1/ledger/proofs/inclusion?index=0 200      200   200       200   200        200        200        200       200     200       200
ledger_cons     /api/v1/ledger/proofs/consistency?first=1 200    200   200       200   200        200        200        200       200     200       200
ledger_entry    /api/v1/ledger/entries/0               401       403   403       403   403        403        403        200       200     403       403
ledger_no_entry /api/v1/ledger/entries/999999          401       403   403       403   403        403        403        404       404     403       403
ledger_export   /api/v1/ledger/export                  401       403   403       403   403        403        403        200       200     403       403
manifests       /api/v1/manifests/                     401       200   200       200   200        200        200        200       200     200       403
manifest_none   /api/v1/manifests/NOPE-1/              401       404   404       404   404        404        404        404       404     404       403
manifest_post   POST:/api/v1/manifests/                401       400   400       400   400        400        400        400       400     400       403
manifest_accept POST:/api/v1/manifests/NOPE-1/accept   401       404   404       404   404        404        404        404       404     404       403
manifest_wd     POST:/api/v1/manifests/NOPE-1/withdrawals 401    400   400       400   400        400        400        400       400     400       403
manifest_idd    POST:/api/v1/manifests/NOPE-1/identity-decisions 401 400 400     400   400        400        400        400       400     400       403
manifest_admit  POST:/api/v1/manifests/NOPE-1/admit    401       400   400       400   400        400        400        400       400     400       403
matching        POST:/api/v1/matching/                 401       400   400       400   400        400        400        400       400     400       403
locator         /api/v1/locator?name=Uno&nationality=VE 400      400   400       400   400        400        400        400       400     400       400
statistics      /api/v1/statistics                     200       200   200       200   200        200        200        200       200     200       200
access_log      /api/v1/access-log/                    401       403   403       403   403        403        403        200       200     403       403
alerts          /api/v1/alerts                         401       200   200       200   200        200        200        200       200     200       403
alerts_tec      /api/v1/alerts?facility=TEC            401       200   404       200   200        200        200        200       200     200       403
alert_ack       POST:/api/v1/alerts/acknowledgements 401    400   400       400   400        400        400        400       400     400       403
invoices        /api/v1/invoices/                      401       200   200       200   200        200        200        200       200     200       403
invoice_us      /api/v1/invoices/{inv_us}/             401       200   404       200   200        404        200        200       200     200       403
invoice_none    /api/v1/invoices/999999999/            401       404   404       404   404        404        404        404       404     404       403
invoice_corr    /api/v1/invoices/{inv_us}/correction   401       404   404       404   404        404        404        404       404     404       403
invoice_note    POST:/api/v1/invoices/{inv_us}/notes   401       403   404       403   403        404        403        403       403     403       403
invoice_pay     POST:/api/v1/invoices/{inv_us}/payment 401       400   400       400   400        400        400        400       400     400       403
agr_invoice_us  /api/v1/agreements/US-SV/invoices/2025-03 401    200   404       200   200        404        200        200       200     200       403
agr_invoice_gt  /api/v1/agreements/GT-SV/invoices/2025-03 401    200   200       200   404        200        404        200       200     200       403
agr_invoice_bad /api/v1/agreements/US-SV/invoices/2025-3x 401    404   404       404   404        404        404        404       404     404       403
agr_issue       POST:/api/v1/agreements/US-SV/invoices/2025-04/issue 401 403 404 403 403         404        403        403       403     403       403
agr_reconcile   POST:/api/v1/agreements/US-SV/reconciliations/2025-03 401 400 400 400 400        400        400        400       400     400       403
inspections     /api/v1/inspections/                   401       200   200       200   403        403        403        200       200     200       403
inspection_none /api/v1/inspections/999999999/         401       404   404       404   403        403        403        404       404     404       403
insp_finding    POST:/api/v1/inspections/999999999/findings 401  400   400       400   400        400        400        400       400     400       403
findings        /api/v1/findings/                      401       200   200       200   403        403        403        200       200     200       403
finding_respond POST:/api/v1/findings/999999999/response 401     400   400       400   400        400        400        400       400     400       403
incidents          /api/v1/incidents                              401   200   200   200   403   403   403   200   403   403   403
incident_none      /api/v1/incidents/999999999                    401   404   404   404   403   403   403   404   403   403   403
incident_post      POST:/api/v1/incidents                         401   400   400   400   400   400   400   400   400   400   403
complaints         /api/v1/complaints?q=x&overdue=true            401   200   200   200   403   403   403   200   403   403   403
complaint_none     /api/v1/complaints/999999999                   401   404   404   404   403   403   403   404   403   403   403
complaint_post     POST:/api/v1/complaints                        401   400   400   400   400   400   400   400   400   400   403
readings_post      POST:/api/v1/readings                          401   400   400   400   400   400   400   400   400   400   403
visits_tec         /api/v1/visits/?facility=TEC&day=2025-03-20    401   200   404   200   403   403   403   200   200   200   403
visits_oth         /api/v1/visits/?facility=OTH&day=2025-03-20    401   404   200   404   403   403   403   200   200   404   403
visits_bad_day     /api/v1/visits/?facility=TEC&day=2025-13-01    401   400   400   400   400   400   400   400   400   400   403
visits_book        POST:/api/v1/visits/                           401   400   400   400   400   400   400   400   400   400   403
visits_held        POST:/api/v1/visits/999999999/held             401   404   404   404   403   403   403   404   404   404   403
contacts           /api/v1/contacts/                              401   200   200   200   403   403   403   200   200   200   403
contacts_log       POST:/api/v1/contacts/                         401   400   400   400   400   400   400   400   400   400   403
restrictions       POST:/api/v1/contact-restrictions/             401   400   400   400   400   400   400   400   400   400   403
person_contacts    /api/v1/persons/{p_us}/contacts                401   200   404   200   403   403   403   200   200   200   403
person_cont_gt     /api/v1/persons/{p_gt_oth}/contacts            401   404   200   404   403   403   403   200   200   404   403
"""


def _parse(table: str) -> list[tuple[str, str, str, int]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    users = header[2:]
    cases = []
    for row in rows:
        endpoint, path, statuses = row[0], row[1], row[2:]
        assert len(statuses) == len(users), f"row {endpoint} has {len(statuses)} columns"
        cases += [(endpoint, path, u, int(s)) for u, s in zip(users, statuses, strict=True)]
    return cases


CASES = _parse(TABLE)


def test_table_covers_every_user_of_the_fixture(users: dict[str, Any]) -> None:
    assert {user for _, _, user, _ in CASES} == {*users, "anonymous"}


def test_table_covers_every_api_path() -> None:
    """A new endpoint must get a row: every documented path matches some row of the table."""
    import re

    from habeas.api import api

    tested = [path.removeprefix("POST:").split("?")[0] for _, path, _, _ in CASES]
    for documented in api.get_openapi_schema()["paths"]:
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(documented)) + "$")
        assert any(pattern.match(p) for p in tested), f"no row in TABLE for {documented}"


USERS = sorted({user for _, _, user, _ in CASES})


@pytest.mark.parametrize("user", USERS)
def test_access(scene: dict[str, Any], client_for: Any, user: str) -> None:
    """One test per column (the scene is built once per user, not once per cell); every
    mismatching cell is reported, not just the first."""
    people, episodes = scene["people"], scene["episodes"]
    ids = {
        "p_us": people["us"].pk,
        "p_gt_oth": people["gt_oth"].pk,
        "p_gt_tec": people["gt_tec"].pk,
        "p_moved": people["moved"].pk,
        "e_us": episodes["us"].pk,
        "e_gt_oth": episodes["gt_oth"].pk,
        "e_gt_tec": episodes["gt_tec"].pk,
        "inv_us": _issued_invoice(scene).pk,
    }
    client = client_for(user)
    wrong = []
    for endpoint, path, column, status in CASES:
        if column != user:
            continue
        method, _, url = path.rpartition(":") if path.startswith("POST:") else ("GET", "", path)
        if method == "POST":  # a write with an empty body: who gets past auth and scope
            response = client.post(url.format(**ids), data="{}", content_type="application/json")
        else:
            response = client.get(url.format(**ids))
        if response.streaming:  # the ledger export (JSON Lines)
            body = {"text": b"".join(response.streaming_content).decode()[:40]}
        elif response["Content-Type"].startswith("application/json"):
            body = response.json()
        else:  # the public key is PEM
            body = {"text": response.content.decode()[:40]}
        if response.status_code != status:
            wrong.append(f"{endpoint}: {response.status_code} (expected {status}) {body}")
        elif status != 200 and (
            set(body) != {"code", "message", "details"}
            or body["code"]
            != {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found"}[status]
        ):
            wrong.append(f"{endpoint}: error document {body}")
    assert not wrong, f"{user}:\n" + "\n".join(wrong)


def _issued_invoice(scene: dict[str, Any]) -> Any:
    """March 2025 of the US agreement, issued (the billing rows)."""
    from habeas.billing.services import invoice_issue
    from habeas.core.actor import Actor

    actor = Actor(name="test:finance", role="finance")
    return invoice_issue(actor=actor, agreement=scene["us"], period="2025-03")


#: Who sees which of the scene's people in list endpoints (counts must not leak others).
VISIBLE = {
    "staff": {"us", "gt_tec", "moved"},
    "staff_oth": {"gt_oth", "moved"},
    "admin": {"us", "gt_tec", "moved"},
    "liaison_us": {"us", "moved"},
    "liaison_gt": {"gt_oth", "gt_tec", "moved"},
    "finance_us": {"us", "moved"},
    "oversight": {"us", "gt_oth", "gt_tec", "moved"},
    "auditor": {"us", "gt_oth", "gt_tec", "moved"},
}


@pytest.mark.parametrize("user", sorted(VISIBLE))
def test_person_list_holds_only_people_in_scope(
    scene: dict[str, Any], client_for: Any, user: str
) -> None:
    body = client_for(user).get("/api/v1/persons/").json()
    expected = {str(scene["people"][k].pk) for k in VISIBLE[user]}
    assert {item["id"] for item in body["items"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize("user", sorted(VISIBLE))
def test_episode_list_holds_only_episodes_in_scope(
    scene: dict[str, Any], client_for: Any, user: str
) -> None:
    from habeas.custody.models import CustodyEpisode

    body = client_for(user).get("/api/v1/custody-episodes/").json()
    expected = {str(e.pk) for e in CustodyEpisode.objects.visible_to(_user(user))}
    assert {item["id"] for item in body["items"]} == expected
    assert body["count"] == len(expected)
    people = {item["person"] for item in body["items"]}
    assert people == {str(scene["people"][k].pk) for k in VISIBLE[user]}


def _user(name: str) -> Any:
    from habeas.accounts.models import User

    return User.objects.get(username=name)


def test_person_outside_scope_does_not_leak(scene: dict[str, Any], client_for: Any) -> None:
    """A person held under the GT agreement is, for the US liaison, exactly a missing one."""
    client = client_for("liaison_us")
    gt = scene["people"]["gt_tec"]
    hidden = client.get(f"/api/v1/persons/{gt.pk}/")
    missing = client.get("/api/v1/persons/999999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    ref = gt.identifiers.get().value
    by_ref = client.get("/api/v1/persons/", {"q": ref}).json()
    assert by_ref == {"items": [], "count": 0}
    by_name = client.get("/api/v1/persons/", {"q": "Carla Tres"}).json()
    assert by_name == {"items": [], "count": 0}
    episodes = client.get("/api/v1/custody-episodes/").json()
    assert str(gt.pk) not in {e["person"] for e in episodes["items"]}
    episode = scene["episodes"]["gt_tec"]
    hidden_episode = client.get(f"/api/v1/custody-episodes/{episode.pk}/")
    missing_episode = client.get("/api/v1/custody-episodes/999999999/")
    assert hidden_episode.json() == missing_episode.json()


def test_a_sensor_token_reaches_only_the_readings_endpoint(
    scene: dict[str, Any], client_for: Any
) -> None:
    """The sensor column of the table: a facility's sensor token (``habeas sensor-token``)
    gets 403 on every row but ``POST /api/v1/readings``, where the empty body is a 400."""
    from django.test import Client

    from habeas.conditions.sensors import sensor_token_create
    from habeas.core.actor import Actor

    _token, raw = sensor_token_create(
        actor=Actor(name="test:director", role="facility_admin"),
        facility=_tec(),
        name="gateway",
    )
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    wrong = []
    for endpoint, path in sorted({(e, p) for e, p, _u, _s in CASES}):
        method, _, url = path.rpartition(":") if path.startswith("POST:") else ("GET", "", path)
        url = url.replace("{", "").replace("}", "")  # ids do not matter: refused before lookup
        if method == "POST":
            response = client.post(url, data="{}", content_type="application/json")
        else:
            response = client.get(url)
        expected = 400 if endpoint == "readings_post" else 403
        if response.status_code != expected or (
            expected == 403 and response.json()["code"] != "forbidden"
        ):
            wrong.append(f"{endpoint}: {response.status_code} (expected {expected})")
    assert not wrong, "\n".join(wrong)


def _tec() -> Any:
    from habeas.facilities.models import Facility

    return Facility.objects.get(code="TEC")
