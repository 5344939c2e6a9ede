"""Reception: acceptance counts the places lawful for each person's population kind and
regime (Mandela Rule 11), not the facility's free places; admission per entry."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from habeas.core.errors import Conflict
from habeas.ledger.models import LedgerEntry
from habeas.transfers.models import ManifestEntry
from habeas.transfers.services import manifest_accept
from tests.transfers.helpers import row, to_csv

ARRIVED = dt.datetime(2025, 3, 21, 14, 5, tzinfo=dt.UTC)


def sentenced_men(n: int, prefix: str = "S") -> list[dict[str, str]]:
    return [
        row(sending_ref=f"{prefix}{i}", given_names="Luis", first_surname=f"Apellido{prefix}{i}")
        for i in range(n)
    ]


def test_more_sentenced_men_than_criminal_places_are_refused(importer: Any, actor: Any) -> None:
    """TEC has 22 working places, but only 12 in its criminal module for men (M1)."""
    manifest = importer(to_csv(sentenced_men(14)), ref="LAW1").manifest
    before = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as refused:
        manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    assert "may lawfully hold them in TEC" in refused.value.message
    assert "no place for 2 adult_male criminal" in refused.value.message
    assert LedgerEntry.objects.count() == before
    assert not ManifestEntry.objects.filter(status="accepted").exists()
    twelve = [f"S{i}" for i in range(12)]
    assert len(manifest_accept(actor=actor, manifest=manifest, only=twelve)) == 12


def test_entries_accepted_and_not_admitted_hold_their_places(importer: Any, actor: Any) -> None:
    first = importer(to_csv(sentenced_men(10, "A")), ref="LAW2").manifest
    manifest_accept(actor=actor, manifest=first, all_eligible=True)
    second = importer(to_csv(sentenced_men(3, "B")), ref="LAW3").manifest
    with pytest.raises(Conflict, match="no place for 1 adult_male criminal"):
        manifest_accept(actor=actor, manifest=second, all_eligible=True)
    assert len(manifest_accept(actor=actor, manifest=second, only=["B0", "B1"])) == 2


def test_an_entry_that_cannot_be_housed_is_reported_and_the_others_admitted(
    importer: Any, actor: Any
) -> None:
    """W1 (the women's civil module) has 2 places; nobody else may hold a woman on a removal
    order: of three such women, two are admitted and the third is reported by her reference."""
    from habeas.custody.models import CustodyEpisode
    from habeas.transfers.services import manifest_admit_each
    from tests.transfers.helpers import removal_row

    rows = [
        removal_row(sending_ref=f"W{i}", given_names="Ana", sex="F", first_surname=f"Mora{i}")
        for i in range(2)
    ]
    rows += sentenced_men(1, "M")
    manifest = importer(to_csv(rows), ref="ADM1").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    # a woman already held takes one W1 place after the acceptance
    from tests.conftest import admit, make_person, removal_order

    held = make_person(actor, given_names="Eva", first_surname="Held", sex="F")
    admit(
        actor,
        held,
        manifest.agreement.facilities.get(),
        manifest.agreement,
        bases=[removal_order()],
        at=ARRIVED - dt.timedelta(hours=1),
    )
    outcome = manifest_admit_each(actor=actor, manifest=manifest, arrived_at=ARRIVED)
    assert sorted(e.person.given_names for e in outcome.episodes) == ["Ana", "Luis"]
    assert [n.sending_ref for n in outcome.not_housed] == ["W1"]
    reason = outcome.not_housed[0].reason
    assert "no cell in TEC may lawfully take this person now (adult_female civil)" in reason
    assert not re.search(r"person \d", reason)  # no internal id
    assert ManifestEntry.objects.get(sending_ref="W1").status == "accepted"
    assert CustodyEpisode.objects.open().count() == 3
    # naming an entry that is not waiting is reported too, nothing else happens
    again = manifest_admit_each(actor=actor, manifest=manifest, arrived_at=ARRIVED, only=["M0"])
    assert again.episodes == []
    assert again.not_housed[0].sending_ref == "M0"


def test_admit_only_on_the_command_line_and_the_api(
    importer: Any, actor: Any, users: dict[str, Any]
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.test import Client

    manifest = importer(to_csv(sentenced_men(3, "C")), ref="ADM2").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    out, err = StringIO(), StringIO()
    call_command(
        "admit", "ADM2", "--arrived-at", ARRIVED.isoformat(), "--only", "C0", stdout=out, stderr=err
    )
    assert "1 admitted" in out.getvalue()
    assert err.getvalue() == ""
    client = Client()
    client.force_login(users["staff"])
    response = client.post(
        "/api/v1/manifests/ADM2/admit",
        data={"arrived_at": ARRIVED.isoformat(), "only": ["C1", "C9"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    doc = response.json()
    assert len(doc["admitted"]) == 1
    assert doc["not_admitted"] == [
        {
            "sending_ref": "C9",
            "reason": "not an accepted entry of this manifest waiting for admission",
        }
    ]
    assert ManifestEntry.objects.get(sending_ref="C2").status == "accepted"


def test_staff_withdraw_an_acceptance_with_a_reason(importer: Any, actor: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from habeas.core.errors import ValidationFailed
    from habeas.transfers.services import acceptance_withdraw

    manifest = importer(to_csv(sentenced_men(12, "D")), ref="WD1").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    with pytest.raises(ValidationFailed, match="needs a reason"):
        acceptance_withdraw(actor=actor, manifest=manifest, only=["D0"], reason=" ")
    with pytest.raises(Conflict, match="D99"):
        acceptance_withdraw(actor=actor, manifest=manifest, only=["D0", "D99"], reason="x")
    assert ManifestEntry.objects.get(sending_ref="D0").status == "accepted"
    withdrawn = acceptance_withdraw(
        actor=actor, manifest=manifest, only=["D0", "D1"], reason="sending state cancelled"
    )
    assert [e.sending_ref for e in withdrawn] == ["D0", "D1"]
    entry = LedgerEntry.objects.filter(action="transfers.acceptance_withdrawn").get()
    assert entry.payload["reason"] == "sending state cancelled"
    assert ManifestEntry.objects.get(sending_ref="D0").status == "decided"
    # the places are given back: two more sentenced men fit in the criminal module
    more = importer(to_csv(sentenced_men(2, "E")), ref="WD2").manifest
    assert len(manifest_accept(actor=actor, manifest=more, all_eligible=True)) == 2
    out = StringIO()
    call_command("verify-ledger", "--json", stdout=out)
    assert '"ok": true' in out.getvalue().replace('"ok":true', '"ok": true')


def test_withdrawal_through_the_api(importer: Any, actor: Any, users: dict[str, Any]) -> None:
    from django.test import Client

    manifest = importer(to_csv(sentenced_men(2, "F")), ref="WD3").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    url = "/api/v1/manifests/WD3/withdrawals"
    body = {"only": ["F1"], "reason": "arrival postponed"}
    liaison = Client()
    liaison.force_login(users["liaison_us"])
    refused = liaison.post(url, data=body, content_type="application/json")
    assert refused.status_code == 403
    staff = Client()
    staff.force_login(users["staff"])
    done = staff.post(url, data=body, content_type="application/json")
    assert done.status_code == 200, done.json()
    assert done.json() == {"manifest": "WD3", "withdrawn": ["F1"]}
    again = staff.post(url, data=body, content_type="application/json")
    assert again.status_code == 409
    assert ManifestEntry.objects.get(sending_ref="F1").status == "decided"


def test_the_manifest_page_admits_at_a_local_arrival_time_and_withdraws(
    importer: Any, actor: Any, users: dict[str, Any]
) -> None:
    from django.test import Client

    from habeas.custody.models import CustodyEpisode

    manifest = importer(to_csv(sentenced_men(3, "G")), ref="PG1").manifest
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    staff = Client()
    staff.force_login(users["staff"])
    page = staff.get("/transfers/manifests/PG1/").content.decode()
    assert "Time of arrival (America/El_Salvador)" in page
    admitted = staff.post(
        "/transfers/manifests/PG1/admit/",
        {"only": ["G0", "G7"], "arrived_date": "2025-03-21", "arrived_time": "08:05"},
        follow=True,
    )
    text = admitted.content.decode()
    assert "1 entries admitted." in text
    assert "G7 was not admitted" in text
    episode = CustodyEpisode.objects.get()
    assert episode.admitted_at == ARRIVED  # 08:05 in El Salvador is 14:05 UTC
    withdrawn = staff.post(
        "/transfers/manifests/PG1/withdraw/",
        {"only": ["G1"], "withdraw_reason": "flight cancelled"},
        follow=True,
    )
    assert "Acceptance withdrawn for 1 entries." in withdrawn.content.decode()
    assert ManifestEntry.objects.get(sending_ref="G1").status == "decided"
    assert ManifestEntry.objects.get(sending_ref="G2").status == "accepted"
