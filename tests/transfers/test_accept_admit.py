"""Acceptance within quota and working capacity; admission with the Rule 7 record and the
notification outbox (ISSUE 3 deliverable 4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.core.errors import Conflict, NotFound, ValidationFailed
from habeas.custody.models import CustodyEpisode
from habeas.housing.models import Placement
from habeas.ledger.models import LedgerEntry
from habeas.transfers.models import AdmissionRecord, ManifestEntry, Notification
from habeas.transfers.services import admission_record_update, manifest_accept, manifest_admit
from tests.conftest import direct_write, make_person
from tests.transfers.helpers import removal_row, row, to_csv

ARRIVED = dt.datetime(2025, 3, 21, 14, 5, tzinfo=dt.UTC)


def people(n: int, **kw: Any) -> list[dict[str, str]]:
    names = [
        "Luis",
        "Carlos",
        "Jorge",
        "Pedro",
        "Andrés",
        "Óscar",
        "Rafael",
        "Héctor",
        "Ramón",
        "Edwin",
    ]
    return [
        row(sending_ref=f"P{i}", given_names=names[i % 10], first_surname=f"Apellido{i}", **kw)
        for i in range(n)
    ]


def test_accept_all_eligible_and_admit(importer: Any, actor: Any) -> None:
    rows = people(3, contact_name="María", contact_phone="+58 412 5550101", language="es")
    rows.append(removal_row(sending_ref="R1", given_names="Ana", sex="F", first_surname="Mora"))
    rows.append(row(sending_ref="BAD", date_of_birth="1990-02-30"))
    result = importer(to_csv(rows), ref="F1")
    manifest = result.manifest
    accepted = manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    assert len(accepted) == 4
    with pytest.raises(Conflict):
        manifest_accept(actor=actor, manifest=manifest, only=["BAD"])
    with pytest.raises(NotFound):
        manifest_accept(actor=actor, manifest=manifest, only=["NOPE"])
    episodes = manifest_admit(actor=actor, manifest=manifest, arrived_at=ARRIVED)
    assert len(episodes) == 4
    assert CustodyEpisode.objects.open().count() == 4
    cells = dict(Placement.objects.values_list("episode__person__given_names", "cell__code"))
    assert cells["Ana"].startswith("W1")  # the women's civil module
    assert cells["Luis"].startswith("M1")  # sentenced men: criminal module
    record = AdmissionRecord.objects.get(episode__person__given_names="Luis")
    assert record.contact_name == "María"
    assert record.rights_language == "es"
    assert "robbery" in record.commitment_reason
    kinds = sorted(
        Notification.objects.filter(episode=record.episode).values_list("kind", flat=True)
    )
    assert kinds == ["consular", "family"]  # VE national held in SV
    ana = Notification.objects.get(episode__person__given_names="Ana", kind="family")
    assert ana.recipient == ""  # no relative known: the person page says so, nothing is sent
    assert not hasattr(ana, "status")  # the delivery's status is the notifications app's
    actions = set(LedgerEntry.objects.values_list("action", flat=True))
    assert {
        "transfers.manifest_accepted",
        "transfers.admission_recorded",
        "transfers.notification_queued",
        "custody.admitted",
    } <= actions
    assert set(
        ManifestEntry.objects.filter(status="admitted").values_list("sending_ref", flat=True)
    ) == {"P0", "P1", "P2", "R1"}
    with pytest.raises(ValidationFailed):
        manifest_admit(actor=actor, manifest=manifest, arrived_at=ARRIVED)


def test_accept_refuses_beyond_quota(importer: Any, actor: Any, world: Any) -> None:
    from habeas.agreements.models import Agreement

    result = importer(to_csv(people(3)))
    direct_write(  # test set-up written directly, on purpose
        lambda: Agreement.objects.filter(pk=world["us"].pk).update(max_persons=2)
    )
    manifest = result.manifest
    manifest.agreement.refresh_from_db()
    with pytest.raises(Conflict, match="quota"):
        manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    assert ManifestEntry.objects.filter(status="accepted").count() == 0
    manifest_accept(actor=actor, manifest=manifest, only=["P0", "P1"])
    with pytest.raises(Conflict, match="quota"):
        manifest_accept(actor=actor, manifest=manifest, only=["P2"])


def test_accept_refuses_beyond_working_capacity(importer: Any, actor: Any) -> None:
    # TEC: 3x4 + 2x4 + 2 = 22 working places, of which 12 in the criminal module for men
    result = importer(to_csv(people(23)))
    with pytest.raises(Conflict, match="working capacity"):
        manifest_accept(actor=actor, manifest=result.manifest, all_eligible=True)
    with pytest.raises(Conflict, match="no place for 10 adult_male criminal"):
        manifest_accept(actor=actor, manifest=result.manifest, only=[f"P{i}" for i in range(22)])
    twelve = [f"P{i}" for i in range(12)]
    assert len(manifest_accept(actor=actor, manifest=result.manifest, only=twelve)) == 12


def test_matched_person_is_reused_and_review_needs_naming(importer: Any, actor: Any) -> None:
    known = make_person(
        actor, given_names="José Alberto", first_surname="Hernández", second_surname="Ramírez"
    )
    result = importer(
        to_csv([row(given_names="Jose A", first_surname="Hernandez", second_surname="")])
    )
    entry = result.report["entries"][0]
    assert entry["matched_existing"] is True
    assert entry["person"] == str(known.pk)
    manifest_accept(actor=actor, manifest=result.manifest, all_eligible=True)
    episodes = manifest_admit(actor=actor, manifest=result.manifest, arrived_at=ARRIVED)
    assert episodes[0].person_id == known.pk
    assert known.identifiers.filter(value="A100").exists()


def test_admission_record_update_versions_on_ledger(importer: Any, actor: Any) -> None:
    result = importer(to_csv(people(1)))
    manifest_accept(actor=actor, manifest=result.manifest, all_eligible=True)
    manifest_admit(actor=actor, manifest=result.manifest, arrived_at=ARRIVED)
    record = AdmissionRecord.objects.get()
    updated = admission_record_update(
        actor=actor,
        record=record,
        complete=True,
        visible_injuries="bruise on left arm",
        ill_treatment_complaint="",
        property_items=[{"item": "watch", "quantity": 1}],
        family=[{"name": "Sofía", "relation": "daughter", "age": 6, "location": "Caracas"}],
    )
    assert updated.version == 2
    assert updated.completed_at is not None
    assert LedgerEntry.objects.filter(action="transfers.admission_recorded").count() == 2
    with pytest.raises(ValidationFailed):
        admission_record_update(actor=actor, record=record, shoe_size="44")


def test_admission_notices_show_their_real_status_never_a_queued_left(
    importer: Any, actor: Any, users: dict[str, Any]
) -> None:
    """The admission's notices due (``transfers.Notification``) hold no status of their own:
    the person page lists each delivery with its real status, and each notice no delivery
    carries with why (no e-mail address for the relative, no consulate's subscription); the
    history says what was due, not "queued"."""
    from habeas.notifications.services import subscription_create
    from tests.web.test_pages import client_for, person_url

    subscription_create(
        actor=actor, name="Consulate of Venezuela", audience="consular", country="VE",
        url="http://127.0.0.1:9/hook", secret="s" * 20,
    )  # fmt: skip
    rows = [
        row(sending_ref="P0", given_names="Luis", first_surname="Uno", contact_name="María",
            contact_phone="+58 412 5550101", contact_email="maria@example.org"),
        row(sending_ref="P1", given_names="Jorge", first_surname="Dos", contact_name="Rosa",
            contact_phone="+58 412 5550102", nationalities="VE;CO"),
    ]  # fmt: skip
    manifest = importer(to_csv(rows), ref="N1").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    luis, jorge = (
        e.person for e in manifest_admit(actor=actor, manifest=manifest, arrived_at=ARRIVED)
    )
    staff = client_for(users["staff"])
    body = staff.get(person_url(luis)).content.decode()
    assert body.count("Not sent") == 0  # both carried: the e-mail and the consulate's webhook
    assert "Admission notice due to the consulate of VE (VCCR art. 36)" in body
    assert "Admission notice due to the family (Mandela Rule 68)" in body
    body = staff.get(person_url(jorge)).content.decode()
    assert "Not sent by Habeas: no e-mail address for the relative" in body
    assert "Not sent by Habeas: no webhook subscription of this consulate" in body  # CO
    assert "status: queued" not in body


def test_an_old_notification_entry_with_its_status_still_validates_and_replays() -> None:
    """Entries written before the status was left to the deliveries carry ``status``
    ("queued" or "no_recipient"): their schema still accepts it and the replay ignores it,
    so a ledger of either age verifies against the table without the column."""
    from habeas.transfers.events import NotificationQueuedPayload, _notification

    old = {
        "notification": {
            "id": 7, "episode": 3, "person": 5, "kind": "family", "country": "",
            "recipient": "hmac-sha256:" + "0" * 64, "language": "es", "status": "queued",
            "queued_at": "2025-03-21T14:05:00+00:00", "payload": {},
        }
    }  # fmt: skip
    NotificationQueuedPayload.model_validate(old)
    new = {"notification": {k: v for k, v in old["notification"].items() if k != "status"}}
    NotificationQueuedPayload.model_validate(new)
    state: dict[str, Any] = {}
    _notification(state, old)
    assert "status" not in state["transfers.Notification"][7]
    assert state["transfers.Notification"][7]["kind"] == "family"
