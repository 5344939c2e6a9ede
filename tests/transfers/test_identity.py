"""Same person or different person: the receiving staff's judgement of a possible match
(``habeas.transfers.identity``; Mandela Rule 7(a): one identity per person). ``same`` links
the entry to the registry person (admitted as them), ``different`` dismisses that candidate
for the entry (not offered again); a reason always, one ledger entry, the same judgement
again writes nothing; facility staff of the receiving facility only; a liaison never learns
of a registry person outside their scope, nor of a judgement about one."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from habeas.core.actor import Actor
from tests.transfers import test_review
from tests.transfers.test_review import login

pytestmark = pytest.mark.urls("tests.transfers.urls")

#: The review scene of tests/transfers/test_review.py (a held person, manifest R1, entry P01).
review = test_review.review


def _possible(review: dict[str, Any]) -> Any:
    from habeas.transfers.models import ManifestEntry

    return ManifestEntry.objects.get(manifest=review["manifest"], sending_ref="P01")


def _ledger_ok() -> None:
    out = StringIO()
    call_command("verify-ledger", "--json", stdout=out)
    assert '"ok": true' in out.getvalue().replace('"ok":true', '"ok": true')


def _decide(user: Any, entry: Any, person: int, verdict: str, reason: str = "documents") -> Any:
    from habeas.transfers.identity import identity_decide

    return identity_decide(
        actor=Actor.from_user(user), user=user, entry=entry, person_id=person,
        verdict=verdict, reason=reason,
    )  # fmt: skip


def test_same_person_links_the_entry_and_acceptance_names_that_person(
    review: dict[str, Any], users: Any, actor: Any
) -> None:
    from habeas.ledger.models import LedgerEntry
    from habeas.transfers.services import manifest_accept

    entry = _possible(review)
    held = review["held"]
    assert entry.person_id is None
    decision = _decide(users["staff"], entry, held.pk, "same", "same scar, same parents")
    assert decision.verdict == "same"
    entry.refresh_from_db()
    assert entry.person_id == held.pk
    assert entry.matched_existing is True
    written = LedgerEntry.objects.filter(action="transfers.identity_decided").get()
    assert written.payload["verdict"] == "same"
    assert written.payload["linked"] == held.pk
    assert "same scar" not in str(written.payload)  # the reason only as a commitment
    _ledger_ok()
    # intake treats the entry as that person: accepted after review, it names them
    manifest_accept(actor=actor, manifest=review["manifest"], only=["P01"])
    entry.refresh_from_db()
    assert entry.status == "accepted"
    assert entry.reviewed
    report = login(users["staff"]).get("/api/v1/manifests/R1/").json()
    doc = next(e for e in report["entries"] if e["sending_ref"] == "P01")
    assert doc["person"] == str(held.pk)
    assert doc["identity_decisions"][0]["decision"] == "same"
    assert doc["identity_decisions"][0]["reason"] == "same scar, same parents"


def test_different_person_dismisses_the_candidate_for_good(
    review: dict[str, Any], users: Any
) -> None:
    from habeas.transfers.identity import candidate_ids

    entry = _possible(review)
    held = review["held"]
    staff = login(users["staff"])
    url = f"/transfers/manifests/R1/rows/{entry.row}/compare/"
    before = staff.get(url).content.decode()
    assert "Same person or different person?" in before
    assert 'name="reason"' in before
    done = staff.post(
        f"/transfers/manifests/R1/rows/{entry.row}/identity/",
        {"person": held.pk, "verdict": "different", "reason": "other mother, other village"},
    )
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.person_id is None
    assert entry.matched_existing is False
    assert held.pk in candidate_ids(entry, users["staff"])  # still stored as the matcher said
    after = staff.get(url).content.decode()
    assert "No registry person to compare this entry with." in after  # not offered again
    assert "other mother, other village" in after
    listing = staff.get("/transfers/manifests/R1/?decision=needs_review").content.decode()
    assert "1 candidate judged a different person" in listing
    _ledger_ok()


def test_the_same_judgement_again_writes_nothing(review: dict[str, Any], users: Any) -> None:
    from habeas.ledger.models import LedgerEntry
    from habeas.transfers.models import IdentityDecision

    entry = _possible(review)
    held = review["held"]
    first = _decide(users["staff"], entry, held.pk, "different")
    n = LedgerEntry.objects.count()
    again = _decide(users["staff"], entry, held.pk, "different", "a retried request")
    assert again.pk == first.pk
    assert again.reason == "documents"
    assert LedgerEntry.objects.count() == n
    # a change of mind replaces the judgement; the ledger keeps both
    changed = _decide(users["admin"], entry, held.pk, "same", "fingerprints match")
    assert changed.pk == first.pk
    assert changed.verdict == "same"
    assert IdentityDecision.objects.count() == 1
    assert LedgerEntry.objects.filter(action="transfers.identity_decided").count() == 2
    entry.refresh_from_db()
    assert entry.person_id == held.pk
    _ledger_ok()


def test_judgement_is_refused_without_reason_role_or_candidate(
    review: dict[str, Any], users: Any, actor: Any
) -> None:
    from habeas.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
    from habeas.ledger.models import LedgerEntry
    from habeas.transfers.models import ManifestEntry
    from habeas.transfers.services import manifest_accept

    entry = _possible(review)
    held = review["held"]
    n = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed, match="needs a reason"):
        _decide(users["staff"], entry, held.pk, "same", "  ")
    with pytest.raises(ValidationFailed, match="'same' or 'different'"):
        _decide(users["staff"], entry, held.pk, "maybe")
    for who in ("liaison_us", "oversight", "finance_us", "staff_oth", "inspector"):
        with pytest.raises(Forbidden):
            _decide(users[who], entry, held.pk, "same")
    with pytest.raises(NotFound):
        _decide(users["staff"], entry, held.pk + 1000, "same")
    eligible = ManifestEntry.objects.get(manifest=review["manifest"], sending_ref="E00")
    with pytest.raises(NotFound):  # no candidate at all
        _decide(users["staff"], eligible, held.pk, "different")
    manifest_accept(actor=actor, manifest=review["manifest"], only=["P01"])
    with pytest.raises(Conflict, match="withdraw the acceptance first"):
        _decide(users["staff"], entry, held.pk, "same")
    assert LedgerEntry.objects.count() == n + 1  # the acceptance alone


def test_liaison_never_sees_a_judgement_about_someone_out_of_scope(
    review: dict[str, Any], users: Any
) -> None:
    entry = _possible(review)
    held = review["held"]  # held for Guatemala: not the US liaison's
    _decide(users["staff"], entry, held.pk, "different", "Quintanilla is another man")
    liaison = login(users["liaison_us"])
    page = liaison.get(f"/transfers/manifests/R1/rows/{entry.row}/compare/").content.decode()
    assert "Quintanilla is another man" not in page
    assert f"/people/{held.pk}/" not in page
    assert "Judgements recorded" not in page
    assert "Record the judgement" not in page
    listing = liaison.get("/transfers/manifests/R1/?decision=needs_review").content.decode()
    assert "judged a different person" not in listing
    report = liaison.get("/api/v1/manifests/R1/").json()
    doc = next(e for e in report["entries"] if e["sending_ref"] == "P01")
    assert doc["identity_decisions"] == []
    refused = liaison.post(
        f"/transfers/manifests/R1/rows/{entry.row}/identity/",
        {"person": held.pk, "verdict": "same", "reason": "x"},
    )
    assert refused.status_code == 403


def test_judgement_through_the_api(review: dict[str, Any], users: Any) -> None:
    from habeas.ledger.models import LedgerEntry

    held = review["held"]
    url = "/api/v1/manifests/R1/identity-decisions"
    body = {"sending_ref": "P01", "person": held.pk, "decision": "same", "reason": "passport"}
    refused = login(users["liaison_us"]).post(url, data=body, content_type="application/json")
    assert refused.status_code == 403
    staff = login(users["staff"])
    done = staff.post(url, data=body, content_type="application/json")
    assert done.status_code == 200, done.json()
    out = done.json()
    assert out["decision"] == "same"
    assert out["linked_person"] == str(held.pk)
    assert out["reason"] == "passport"
    assert out["decided_by"] == "staff"
    n = LedgerEntry.objects.count()
    again = staff.post(url, data=body, content_type="application/json")
    assert again.status_code == 200
    assert again.json() == out
    assert LedgerEntry.objects.count() == n
    missing = staff.post(url, data={**body, "sending_ref": "NOPE"}, content_type="application/json")
    assert missing.status_code == 404
    other = staff.post(url, data={**body, "person": held.pk + 999}, content_type="application/json")
    assert other.status_code == 404
    empty = staff.post(url, data={**body, "reason": ""}, content_type="application/json")
    assert empty.status_code in (400, 422)
