"""Manifest review at scale: counts by decision and status as filter links, filters (rule
not passed, nationality, folded name search), pages of 50 that keep the filters, rules
summarised per entry, "accept all eligible" through the acceptance service (one ledger
entry, a second click writes nothing) and the side-by-side comparison of a possible match."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import admit, make_person
from tests.transfers.helpers import ON, removal_row, row, to_csv

pytestmark = pytest.mark.urls("tests.transfers.urls")

ELIGIBLE = 8
SERVED = 50
CITIZENS = 5


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def review(world: Any, actor: Any) -> dict[str, Any]:
    """A registry person held in TEC for Guatemala, and the US manifest R1: eligible entries (one named Núñez), entries
    whose sentence is served (rule U4 fails), citizens on a removal order (rule U2 fails), and
    one entry that may be the held person (same name unaccented, the day of birth differs)."""
    from habeas.transfers.services import manifest_import

    held = make_person(actor, nationality="SV", given_names="Mario", first_surname="Quintanilla",
                       second_surname="Ábrego", dob=dt.date(1985, 4, 17))  # fmt: skip
    admit(actor, held, world["tec"], world["gt"])  # held for Guatemala: not the US liaison's
    rows = [
        row(sending_ref=f"E{i:02d}", given_names=f"Pedro{chr(65 + i)}", first_surname="Mora",
            nationalities="SV")
        for i in range(ELIGIBLE - 1)
    ]  # fmt: skip
    rows.append(row(sending_ref="E99", given_names="Íñigo", first_surname="Núñez",
                    nationalities="SV"))  # fmt: skip
    rows += [
        row(sending_ref=f"S{i:02d}", given_names=f"Juan{i}", first_surname="Served",
            nationalities="HN", sentence="P1Y", sentence_start="2020-01-01",
            conviction_date="2020-01-01")
        for i in range(SERVED)
    ]  # fmt: skip
    rows += [
        removal_row(sending_ref=f"C{i:02d}", given_names=f"Ana{i}", first_surname="Citizen",
                    sex="F", status_in_sending_state="citizen", nationalities="US")
        for i in range(CITIZENS)
    ]  # fmt: skip
    rows.append(row(sending_ref="P01", given_names="MARIO", first_surname="QUINTANILLA",
                    second_surname="ABREGO", date_of_birth="1985-04-07", nationalities="SV"))  # fmt: skip
    result = manifest_import(
        actor=actor, data=to_csv(rows), agreement=world["us"], ref="R1",
        decided_on=dt.date.fromisoformat(ON),
    )  # fmt: skip
    return {"manifest": result.manifest, "held": held, "rows": len(rows)}


def refs(html: str) -> list[str]:
    return re.findall(r'<td class="mono">([A-Z]\d\d)</td>', html)


def test_counts_are_filter_links(review: dict[str, Any], users: Any) -> None:
    from habeas.transfers.review import review_counts

    m = review["manifest"]
    counts = review_counts(m)
    assert counts["all"] == review["rows"] == 64
    assert counts["eligible"] == ELIGIBLE
    assert counts["ineligible"] == SERVED + CITIZENS
    assert counts["needs_review"] == 1
    assert counts["decided"] == 64
    assert counts["accepted"] == counts["admitted"] == 0
    html = login(users["staff"]).get("/transfers/manifests/R1/").content.decode()
    assert re.search(r'href="\?decision=ineligible"[^>]*><span class="chip__count">55</span>', html)
    assert re.search(
        r'href="\?decision=needs_review"[^>]*><span class="chip__count">1</span>', html
    )


def test_pages_of_fifty_keep_the_filters(review: dict[str, Any], users: Any) -> None:
    staff = login(users["staff"])
    first = staff.get("/transfers/manifests/R1/").content.decode()
    assert len(refs(first)) == 50
    assert "Entries 1–50 of 64" in first
    assert 'href="?page=2"' in first
    second = staff.get("/transfers/manifests/R1/?page=2").content.decode()
    assert len(refs(second)) == 14
    assert not set(refs(first)) & set(refs(second))
    filtered = staff.get("/transfers/manifests/R1/?decision=ineligible").content.decode()
    assert "Entries 1–50 of 55" in filtered
    assert 'href="?decision=ineligible&amp;page=2"' in filtered
    page2 = staff.get("/transfers/manifests/R1/?decision=ineligible&page=2").content.decode()
    assert refs(page2) == [f"C{i:02d}" for i in range(CITIZENS)]


def test_filter_by_rule_nationality_and_folded_name(review: dict[str, Any], users: Any) -> None:
    staff = login(users["staff"])
    served = staff.get("/transfers/manifests/R1/?rule=U4").content.decode()
    assert "of 50" in served
    assert all(r.startswith("S") for r in refs(served))
    citizens = staff.get("/transfers/manifests/R1/?rule=U2").content.decode()
    assert sorted(refs(citizens)) == [f"C{i:02d}" for i in range(CITIZENS)]
    honduras = staff.get("/transfers/manifests/R1/?nationality=HN").content.decode()
    assert "Entries 1–50 of 50" in honduras
    assert all(r.startswith("S") for r in refs(honduras))
    us = staff.get("/transfers/manifests/R1/?nationality=US").content.decode()
    assert sorted(refs(us)) == [f"C{i:02d}" for i in range(CITIZENS)]
    for query in ("nunez", "NÚÑEZ", "inigo nun", "E99"):
        found = staff.get("/transfers/manifests/R1/", {"q": query}).content.decode()
        assert refs(found) == ["E99"], query
    both = staff.get("/transfers/manifests/R1/?decision=eligible&q=mora").content.decode()
    assert len(refs(both)) == ELIGIBLE - 1
    none = staff.get("/transfers/manifests/R1/?decision=ineligible&q=nunez").content.decode()
    assert refs(none) == []
    assert "No entry matches these filters." in none


def test_rules_are_summarised_not_one_row_each(review: dict[str, Any], users: Any) -> None:
    html = login(users["staff"]).get("/transfers/manifests/R1/?rule=U2").content.decode()
    assert html.count("2 rules failed:") == CITIZENS
    assert "No removal of citizens" in html
    assert html.count("<details") == CITIZENS
    assert '<table class="table table--compact">' not in html.split("review-table")[1]


def test_accept_all_eligible_one_ledger_entry_and_idempotent(
    review: dict[str, Any], users: Any
) -> None:
    from habeas.ledger.models import LedgerEntry
    from habeas.transfers.models import ManifestEntry

    staff = login(users["staff"])
    page = staff.get("/transfers/manifests/R1/accept-eligible/")
    assert page.status_code == 200
    assert "You are about to accept 8 eligible entries" in page.content.decode()
    before = LedgerEntry.objects.count()
    stale = staff.post("/transfers/manifests/R1/accept-eligible/", {"expected": "7"})
    assert stale.status_code == 302
    assert stale["Location"].endswith("/accept-eligible/")
    assert LedgerEntry.objects.count() == before
    done = staff.post("/transfers/manifests/R1/accept-eligible/", {"expected": "8"})
    assert done.status_code == 302
    accepted = LedgerEntry.objects.filter(index__gte=before).order_by("index")
    assert [e.action for e in accepted] == ["transfers.manifest_accepted"]
    payload = accepted[0].payload
    assert sorted(a["sending_ref"] for a in payload["accepted"]) == sorted(
        [f"E{i:02d}" for i in range(ELIGIBLE - 1)] + ["E99"]
    )
    assert not any(a["reviewed"] for a in payload["accepted"])
    assert set(
        ManifestEntry.objects.filter(manifest=review["manifest"], status="accepted").values_list(
            "decision", flat=True
        )
    ) == {"eligible"}
    after = LedgerEntry.objects.count()
    again = staff.post("/transfers/manifests/R1/accept-eligible/", {"expected": "8"})
    assert again.status_code == 302
    assert LedgerEntry.objects.count() == after
    assert "nothing changed" in staff.get(again["Location"]).content.decode()
    assert "eligible entries…" not in staff.get("/transfers/manifests/R1/").content.decode()


def test_accept_all_eligible_is_for_the_receiving_staff(review: dict[str, Any], users: Any) -> None:
    assert (
        login(users["oversight"]).get("/transfers/manifests/R1/accept-eligible/").status_code == 403
    )
    assert (
        login(users["liaison_us"])
        .post("/transfers/manifests/R1/accept-eligible/", {"expected": "8"})
        .status_code
        == 403
    )
    assert (
        login(users["liaison_gt"]).get("/transfers/manifests/R1/accept-eligible/").status_code
        == 404
    )


def test_comparison_marks_differences(review: dict[str, Any], users: Any) -> None:
    from habeas.transfers.models import ManifestEntry

    entry = ManifestEntry.objects.get(manifest=review["manifest"], sending_ref="P01")
    assert entry.decision == "needs_review"
    assert entry.candidates
    assert entry.candidates[0]["band"] == "possible"
    staff = login(users["staff"])
    listing = staff.get("/transfers/manifests/R1/?decision=needs_review").content.decode()
    url = f"/transfers/manifests/R1/rows/{entry.row}/compare/"
    assert f'href="{url}"' in listing
    html = staff.get(url).content.decode()
    rows = dict(
        re.findall(
            r'<tr class="compare-row compare-row--(\w+)">\s*<th scope="row">([^<]+)</th>', html
        )[i][::-1]
        for i in range(8)
    )
    assert rows["Given names"] == "folded"
    assert rows["First surname"] == "folded"
    assert rows["Second surname"] == "folded"
    assert rows["Date of birth"] == "differs"
    assert rows["Sex"] == "same"
    assert rows["Nationalities"] == "same"
    assert "1985-04-07" in html
    assert "1985-04-17" in html
    assert "Quintanilla" in html
    assert "QUINTANILLA" in html
    assert "Different person: accept this entry after review" in html


def test_comparison_reveals_nobody_outside_the_scope(review: dict[str, Any], users: Any) -> None:
    from habeas.transfers.models import ManifestEntry

    row_no = ManifestEntry.objects.get(manifest=review["manifest"], sending_ref="P01").row
    url = f"/transfers/manifests/R1/rows/{row_no}/compare/"
    other = login(users["liaison_us"]).get(url)
    assert other.status_code == 200
    html = other.content.decode()
    assert "No registry person to compare this entry with." in html
    assert "Quintanilla" not in html
    assert "1985-04-17" not in html
    eligible_row = ManifestEntry.objects.get(manifest=review["manifest"], sending_ref="E00").row
    plain = login(users["liaison_us"]).get(f"/transfers/manifests/R1/rows/{eligible_row}/compare/")
    assert plain.content.decode().count("No registry person") == 1
    assert login(users["liaison_gt"]).get(url).status_code == 404
    assert login(users["staff"]).get("/transfers/manifests/R1/rows/999/compare/").status_code == 404


def test_review_page_query_count_does_not_grow_with_the_page(
    review: dict[str, Any], users: Any, django_assert_max_num_queries: Any
) -> None:
    staff = login(users["staff"])
    staff.get("/transfers/manifests/R1/")  # session, caches
    with django_assert_max_num_queries(30):
        assert staff.get("/transfers/manifests/R1/").status_code == 200
