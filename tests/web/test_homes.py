"""A home for each role (issue 11, deliver 8): ``/`` shows a liaison their own state's people,
manifests, releases and alarms; finance their agreements' invoices; oversight monitors and
auditors the alerts and the ledger, with a verification page and the signed checkpoint.
Who may open each page is in the pages × roles matrix (tests/web/test_pages_roles.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import client_for, scene  # noqa: F401  (the API matrix's people)

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str = "/", language: str = "en") -> Any:
    client.cookies["django_language"] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _templates(response: Any) -> set[str]:
    return {t.name for t in response.templates}


def _state_people(scene: dict[str, Any], state: str) -> set[int]:  # noqa: F811
    """Everyone the state sent (open or closed episodes), from the scene's own episodes."""
    agreement = scene[state.lower()]
    return {e.person_id for e in scene["episodes"].values() if e.agreement_id == agreement.pk}


@pytest.mark.parametrize(
    ("user", "held", "facilities"),
    [("liaison_us", 1, {"TEC": 1}), ("liaison_gt", 3, {"OTH": 2, "TEC": 1})],
)
def test_liaison_home_shows_only_their_states_people(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
    user: str,
    held: int,
    facilities: dict[str, int],
) -> None:
    """liaison_us: Ana Uno in TEC (Dario Cuatro left the US agreement); liaison_gt: Beto Dos
    and Dario Cuatro in OTH, Carla Tres in TEC."""
    response = _get(client_for(user))
    assert "web/home_liaison.html" in _templates(response)
    assert response.context["held_total"] == held
    assert {h["facility__code"]: h["n"] for h in response.context["held"]} == facilities
    mine = _state_people(scene, user[-2:])
    alarms = response.context["alarms"]
    assert {a["person_id"] for a in alarms} <= mine
    body = response.content.decode()
    assert 'href="/people/?status=held"' in body
    others = {p.pk: p for p in scene["people"].values()}
    for pk, person in others.items():
        if pk not in mine:
            assert person.full_name not in body


def test_liaison_gt_sees_the_alarm_of_a_person_held_with_no_basis(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
) -> None:
    """Beto Dos was admitted in OTH with no legal basis: an open legal-basis alarm for
    Guatemala's liaison, named on their home; never on the US liaison's."""
    beto = scene["people"]["gt_oth"]
    gt = _get(client_for("liaison_gt"))
    assert beto.pk in {a["person_id"] for a in gt.context["alarms"]}
    assert beto.full_name in gt.content.decode()
    us = _get(client_for("liaison_us"))
    assert beto.pk not in {a["person_id"] for a in us.context["alarms"]}


def test_liaison_home_lists_their_manifests_with_counts(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
    actor: Any,
) -> None:
    import datetime as dt

    from habeas.transfers.services import manifest_import
    from tests.transfers.helpers import row, to_csv

    manifest_import(
        actor=actor,
        data=to_csv([row(), row(sending_ref="US-2", given_names="Eva")]),
        agreement=scene["us"],
        ref="US-HOME",
        decided_on=dt.date(2025, 3, 20),
    )
    us = _get(client_for("liaison_us"))
    (listed,) = us.context["manifests"]
    assert listed["manifest"].ref == "US-HOME"
    assert sum(n for _label, n in listed["counts"]) == 2
    assert "US-HOME" in us.content.decode()
    gt = _get(client_for("liaison_gt"))
    assert gt.context["manifests"] == []
    assert "US-HOME" not in gt.content.decode()


def test_finance_home_shows_their_agreements_and_invoices(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
    actor: Any,
) -> None:
    from habeas.billing.services import invoice_issue

    invoice = invoice_issue(actor=actor, agreement=scene["us"], period="2025-03")
    response = _get(client_for("finance_us"))
    assert "web/home_finance.html" in _templates(response)
    assert [r["agreement"].code for r in response.context["agreements"]] == ["US-SV"]
    (row,) = response.context["agreements"]
    assert row["due"] == {"count": 1, "total": invoice.total}
    assert [i.number for i in response.context["latest"]] == [invoice.number]
    assert response.context["chart"]["bars"][0]["period"] == "2025-03"
    body = response.content.decode()
    assert invoice.number in body
    assert "GT-SV" not in body


@pytest.mark.parametrize("user", ["oversight", "auditor"])
def test_monitor_home_shows_alerts_and_ledger(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
    user: str,
) -> None:
    from habeas.conditions.alerts import alerts_for
    from habeas.ledger.services import ledger_size

    client = client_for(user)
    response = _get(client)
    assert "web/home_monitor.html" in _templates(response)
    expected = alerts_for(user=response.wsgi_request.user, open_only=True)
    assert response.context["alerts_total"] == len(expected)
    by_kind = {k: n for g in response.context["groups"] for k, _label, n in g["kinds"]}
    kinds: dict[str, int] = {}
    for alert in expected:
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    assert by_kind == kinds
    assert response.context["ledger_state"].size == ledger_size()
    body = response.content.decode()
    for link in ("/ledger/verification/", "/oversight/access-log/", "/api/v1/docs"):
        assert f'href="{link}"' in body
    assert 'href="/admin/"' not in body  # not marked as staff of the site


def test_staff_keep_the_dashboard_and_every_role_reaches_it(client_for: Any) -> None:  # noqa: F811
    assert "web/dashboard.html" in _templates(_get(client_for("staff")))
    assert "web/dashboard.html" in _templates(_get(client_for("admin")))
    liaison = _get(client_for("liaison_us"), "/dashboard/")
    assert "web/dashboard.html" in _templates(liaison)
    assert 'href="/dashboard/"' in _get(client_for("liaison_us")).content.decode()


def test_verification_page_checks_the_checkpoint(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
    actor: Any,
) -> None:
    """The latest checkpoint's signature verifies and today's ledger extends it (checked in
    the request by a consistency proof); the root is shown in hex and the note's base64 of
    the same bytes beside it; the last recorded full verification is shown, never run."""
    from habeas.ledger.proofs import checkpoint_issue
    from habeas.ledger.services import ledger_root, ledger_size, verification_record
    from habeas.ledger.verify import verify_ledger
    from tests.conftest import make_person

    client = client_for("auditor")
    empty = _get(client, "/ledger/verification/").content.decode()
    assert "No checkpoint has been signed yet." in empty
    assert "No full verification has been recorded yet." in empty
    checkpoint = checkpoint_issue()
    make_person(actor, given_names="Luz", first_surname="Nueva", authority="US")  # grows
    assert ledger_size() > checkpoint.size
    result = verify_ledger()
    verification_record(
        size=result.entries, root=result.root, ok=result.ok, problems=result.document()["problems"]
    )
    response = _get(client, "/ledger/verification/")
    check = response.context["check"]
    assert check["signature"], check
    assert check["extends"], check
    body = response.content.decode()
    assert checkpoint.root in body
    assert ledger_root().hex() in body
    b64 = base64.b64encode(bytes.fromhex(checkpoint.root)).decode()
    assert check["b64"] == b64
    assert b64 in checkpoint.text
    assert b64 in body
    assert "✓" in body
    assert "habeas verify-ledger" in body
    download = client.get("/ledger/checkpoint.txt")
    assert download.content.decode() == checkpoint.text
    assert f"checkpoint-{checkpoint.size}.txt" in download["Content-Disposition"]


def test_verification_page_refuses_a_checkpoint_that_does_not_verify(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
) -> None:
    """A checkpoint row whose root is not the one it signed (edited in the database) is
    reported as not verifying."""
    from habeas.ledger.models import LedgerCheckpoint
    from habeas.ledger.proofs import checkpoint_issue

    checkpoint = checkpoint_issue()
    LedgerCheckpoint.objects.filter(pk=checkpoint.pk).update(root="00" * 32)
    response = _get(client_for("oversight"), "/ledger/verification/")
    check = response.context["check"]
    assert not check["signature"]
    assert not check["extends"]
    assert "does not verify" in response.content.decode()


@pytest.mark.parametrize(
    ("user", "url", "spanish"),
    [
        ("liaison_gt", "/", "Personas en custodia"),
        ("finance_us", "/", "Tarifas y facturas"),
        ("auditor", "/", "Supervisión y auditoría"),
        ("oversight", "/ledger/verification/", "Verificación de la bitácora"),
    ],
)
def test_homes_in_spanish(
    scene: dict[str, Any],  # noqa: F811
    client_for: Any,  # noqa: F811
    user: str,
    url: str,
    spanish: str,
) -> None:
    body = _get(client_for(user), url, language="es").content.decode()
    assert spanish in body
    assert 'lang="es"' in body
