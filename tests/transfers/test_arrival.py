"""One person's arrival at the gate (issue 11, reception): the accepted entry admitted into
the cell staff chose or the rules suggest (Mandela Rule 11), with the Rule 7 record completed
in the same transaction (property and family as lists, never JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from habeas.core.errors import Conflict, ValidationFailed
from habeas.custody.models import CustodyEpisode
from habeas.ledger.models import LedgerEntry
from habeas.transfers.models import AdmissionRecord, ManifestEntry
from habeas.transfers.services import entry_arrive, manifest_accept
from tests.transfers.helpers import row, to_csv

ARRIVED = dt.datetime(2025, 3, 21, 8, 5, tzinfo=dt.timezone(dt.timedelta(hours=-6)))


@pytest.fixture
def accepted(importer: Any, actor: Any) -> Any:
    """Two sentenced men accepted (criminal module M1 of TEC) and waiting for arrival."""
    manifest = importer(
        to_csv(
            [
                row(sending_ref="AR1", given_names="Luis", first_surname="Arévalo"),
                row(sending_ref="AR2", given_names="Juan", first_surname="Benítez"),
            ]
        ),
        ref="ARR1",
    ).manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    return manifest


def _tec(manifest: Any) -> Any:
    return manifest.agreement.facilities.get(code="TEC")


def _arrive(manifest: Any, actor: Any, ref: str, **kw: Any) -> Any:
    """``entry_arrive`` of ``ref`` at ARRIVED in TEC."""
    return entry_arrive(
        actor=actor,
        manifest=manifest,
        sending_ref=ref,
        arrived_at=ARRIVED,
        facility=_tec(manifest),
        **kw,
    )


def test_arrival_admits_into_the_chosen_cell_with_the_rule_7_record(
    accepted: Any, actor: Any
) -> None:
    property_items = [{"item": "watch", "quantity": "1", "note": "steel"}]
    episode = _arrive(
        accepted,
        actor,
        "AR1",
        cell_code="M1-03",
        record={
            "visible_injuries": "bruise on the left forearm",
            "property_items": property_items,
            "rights_language": "es",
        },
        complete=True,
    )
    assert episode.admitted_at == ARRIVED
    assert episode.placements.get(ended_at__isnull=True).cell.code == "M1-03"
    record = AdmissionRecord.objects.get(episode=episode)
    assert record.property_items == property_items
    assert record.visible_injuries == "bruise on the left forearm"
    assert record.completed_at is not None
    assert record.version == 2  # the manifest's version, then the gate's
    assert ManifestEntry.objects.get(sending_ref="AR1").status == "admitted"
    assert ManifestEntry.objects.get(sending_ref="AR2").status == "accepted"
    recorded = LedgerEntry.objects.filter(action="transfers.admission_recorded")
    assert recorded.count() == 2


def test_arrival_without_a_cell_takes_the_rules_suggestion(accepted: Any, actor: Any) -> None:
    episode = _arrive(accepted, actor, "AR2")
    assert episode.placements.get().cell.code.startswith("M1-")
    assert AdmissionRecord.objects.get(episode=episode).version == 1


def test_a_cell_the_rules_refuse_admits_nobody(accepted: Any, actor: Any) -> None:
    """M2 is the civil module: a sentenced man may not be held there (Rule 11(c))."""
    before = LedgerEntry.objects.count()
    with pytest.raises(Conflict, match="M2-01"):
        _arrive(accepted, actor, "AR1", cell_code="M2-01")
    assert LedgerEntry.objects.count() == before
    assert not CustodyEpisode.objects.exists()
    assert ManifestEntry.objects.get(sending_ref="AR1").status == "accepted"


def test_a_record_refused_admits_nobody(accepted: Any, actor: Any) -> None:
    """One transaction: a record without the language of the rights information (Mandela
    Rules 54-55) is refused, and the admission with it."""
    before = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed, match="54-55"):
        _arrive(accepted, actor, "AR1", record={"rights_language": ""})
    assert LedgerEntry.objects.count() == before
    assert not CustodyEpisode.objects.exists()


def test_only_an_accepted_entry_arrives(accepted: Any, actor: Any) -> None:
    _arrive(accepted, actor, "AR1")
    with pytest.raises(Conflict, match="not an accepted entry"):
        _arrive(accepted, actor, "AR1")
    with pytest.raises(Conflict, match="not an accepted entry"):
        _arrive(accepted, actor, "NOPE")


def test_the_arrival_page_suggests_a_cell_and_saves_the_record(
    accepted: Any, users: dict[str, Any]
) -> None:
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(users["staff"])
    manifest_page = staff.get("/transfers/manifests/ARR1/").content.decode()
    assert "/transfers/manifests/ARR1/rows/1/arrive/" in manifest_page
    page = staff.get("/transfers/manifests/ARR1/rows/1/arrive/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Suggested: cell <strong>M1-" in text
    assert "Adult men" in text
    assert "adult_male" not in text
    assert "(e) Personal property" in text
    assert 'name="property_items-0-item"' in text  # a list, not JSON
    assert "cells refused by the housing rules" in text  # the civil and women's cells
    assert "criminal sentence" in text  # (b) filled in from the manifest
    done = staff.post(
        "/transfers/manifests/ARR1/rows/1/arrive/",
        {
            "arrived_date": "2025-03-21",
            "arrived_time": "08:05",
            "cell": "M1-02",
            "commitment_reason": "criminal sentence",
            "commitment_authority": "US",
            "property_items-0-item": "watch",
            "property_items-0-quantity": "1",
            "property_items-0-note": "",
            "rights_language": "es",
            "complete": "on",
        },
        follow=True,
    )
    assert done.status_code == 200
    assert "AR1 admitted to cell M1-02 at 2025-03-21 08:05" in done.content.decode()
    episode = CustodyEpisode.objects.get()
    assert episode.admitted_at == dt.datetime(2025, 3, 21, 14, 5, tzinfo=dt.UTC)
    record = AdmissionRecord.objects.get(episode=episode)
    assert record.property_items == [{"item": "watch", "quantity": "1"}]
    assert record.completed_at is not None
    # an entry already admitted leads to the person's file
    again = staff.get("/transfers/manifests/ARR1/rows/1/arrive/")
    assert again.status_code == 302
    assert again["Location"] == f"/people/{episode.person_id}/"


def test_the_arrival_page_refuses_a_cell_outside_the_lawful_list(
    accepted: Any, users: dict[str, Any]
) -> None:
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(users["staff"])
    response = staff.post(
        "/transfers/manifests/ARR1/rows/2/arrive/",
        {"arrived_date": "2025-03-21", "arrived_time": "08:05", "cell": "M2-01",
         "rights_language": "es"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not CustodyEpisode.objects.exists()


def test_only_the_receiving_staff_record_an_arrival(accepted: Any, users: dict[str, Any]) -> None:
    for name, status in (("liaison_us", 403), ("staff_oth", 403), ("finance_us", 403)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(users[name])
        got = client.get("/transfers/manifests/ARR1/rows/1/arrive/")
        assert got.status_code in (status, 404), name
    assert not CustodyEpisode.objects.exists()


def test_the_arrival_page_in_spanish(accepted: Any, users: dict[str, Any]) -> None:
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(users["staff"])
    staff.cookies["django_language"] = "es"
    text = staff.get("/transfers/manifests/ARR1/rows/1/arrive/").content.decode()
    assert "Sugerida: celda <strong>M1-" in text
    assert "Ingresar y guardar el registro" in text
    assert "Hombres adultos" in text
