"""Staff search (issue 11, item 4): folding, filters, sorting, pages, cell column, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse

from habeas.web.search import SearchFilters, staff_search
from tests.conftest import admit, make_person, removal_order, sentence
from tests.web.test_pages import client_for, person_url


@pytest.fixture
def crowd(world: dict[str, Any], users: dict[str, Any], actor: Any) -> dict[str, Any]:
    """Accents, capitals, two nationalities, both kinds of legal basis, a released person,
    someone never admitted, and a person in another facility."""
    gutierrez = make_person(actor, given_names="Óscar", first_surname="Gutiérrez")
    admit(actor, gutierrez, world["tec"], world["us"], bases=[sentence()], cell="M1-01")
    caps = make_person(actor, given_names="MARIO", first_surname="ALVAREZ")
    admit(actor, caps, world["tec"], world["us"], bases=[removal_order()], cell="M2-01")
    beta = make_person(actor, given_names="Beto", first_surname="Benítez", nationality="HN")
    admit(actor, beta, world["tec"], world["us"], bases=[removal_order()], cell="M2-02")
    zeta = make_person(actor, given_names="Zoe", first_surname="zamora", nationality="HN")
    never = make_person(actor, given_names="Nadie", first_surname="Gutierrez")
    gt = make_person(actor, given_names="Mateo", first_surname="Tzul", nationality="GT",
                     authority="GT")  # fmt: skip
    admit(actor, gt, world["oth"], world["gt"], cell="A-01")
    return {"gutierrez": gutierrez, "caps": caps, "beta": beta, "zeta": zeta, "never": never,
            "gt": gt}  # fmt: skip


def found(user: Any, **kw: Any) -> list[int]:
    return [p.pk for p in staff_search(user=user, filters=SearchFilters(**kw), show_cells=True)]


@pytest.mark.django_db
def test_accents_and_capitals_are_folded_as_the_locator_folds_them(
    crowd: dict[str, Any], users: dict[str, Any]
) -> None:
    user = users["oversight"]
    for query in ("Gutierrez", "gutiérrez", "GUTIERREZ", "gutie"):
        assert set(found(user, query=query)) == {crowd["gutierrez"].pk, crowd["never"].pk}, query
    assert found(user, query="Alvárez") == [crowd["caps"].pk]
    assert found(user, query="Oscar Gutierrez") == [crowd["gutierrez"].pk]


@pytest.mark.django_db
def test_names_in_capitals_sort_with_the_others(
    crowd: dict[str, Any], users: dict[str, Any]
) -> None:
    order = found(users["oversight"])
    names = [crowd[k].pk for k in ("caps", "beta", "never", "gutierrez", "gt", "zeta")]
    assert [pk for pk in order if pk in names] == names
    assert found(users["oversight"], sort="-name")[0] == crowd["zeta"].pk


@pytest.mark.django_db
def test_filters_by_status_nationality_basis_cell_and_reference(
    crowd: dict[str, Any], users: dict[str, Any]
) -> None:
    user = users["oversight"]
    assert set(found(user, status="never")) >= {crowd["zeta"].pk, crowd["never"].pk}
    assert crowd["gutierrez"].pk not in found(user, status="never")
    assert crowd["gutierrez"].pk in found(user, status="held")
    assert set(found(user, nationality="hn")) == {crowd["beta"].pk, crowd["zeta"].pk}
    assert set(found(user, nationality="HN", status="held")) == {crowd["beta"].pk}
    assert set(found(user, basis="criminal_sentence")) == {crowd["gutierrez"].pk, crowd["gt"].pk}
    assert crowd["gutierrez"].pk not in found(user, basis="none")
    assert set(found(user, basis="removal_order")) == {crowd["caps"].pk, crowd["beta"].pk}
    assert found(user, cell="m2-02") == [crowd["beta"].pk]
    ref = crowd["gt"].identifiers.get().value
    assert found(user, reference=ref.lower()) == [crowd["gt"].pk]
    assert found(user, reference=str(crowd["zeta"].pk)) == [crowd["zeta"].pk]
    assert found(user, reference="RO-1", query="benitez") == [crowd["beta"].pk]


@pytest.mark.django_db
def test_released_people_and_sort_by_cell(
    crowd: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    from habeas.custody.services import custody_release

    custody_release(
        actor=actor,
        person=crowd["caps"],
        reason="returned_to_sending_state",
        at=dt.datetime.now(dt.UTC),
        destination="VE",
    )
    user = users["oversight"]
    assert found(user, status="released") == [crowd["caps"].pk]
    assert crowd["caps"].pk not in found(user, cell="M2-01")
    by_cell = [pk for pk in found(user, sort="cell") if pk in {c.pk for c in crowd.values()}]
    assert by_cell[:3] == [crowd["gt"].pk, crowd["gutierrez"].pk, crowd["beta"].pk]


@pytest.mark.django_db
def test_search_stays_in_the_users_scope(crowd: dict[str, Any], users: dict[str, Any]) -> None:
    assert crowd["gt"].pk not in found(users["staff"], nationality="GT")
    assert found(users["liaison_gt"], query="Tzul") == [crowd["gt"].pk]
    assert found(users["liaison_gt"], query="Gutierrez") == []


@pytest.mark.django_db
def test_page_shows_cell_column_filters_and_sort_links(
    crowd: dict[str, Any], users: dict[str, Any]
) -> None:
    client = client_for(users["staff"])
    body = client.get(reverse("web:person_list"), {"q": "gutierrez"}).content.decode()
    assert person_url(crowd["gutierrez"]) in body
    assert reverse("housing:cell", args=["TEC", "M1-01"]) in body
    assert 'aria-sort="ascending"' in body
    assert "sort=-name" in body
    body = client.get(reverse("web:person_list"), {"nationality": "HN"}).content.decode()
    assert person_url(crowd["beta"]) in body
    assert person_url(crowd["gutierrez"]) not in body


@pytest.mark.django_db
def test_liaison_sees_no_cell_column_nor_cell_filter(
    crowd: dict[str, Any], users: dict[str, Any]
) -> None:
    body = client_for(users["liaison_us"]).get(reverse("web:person_list")).content.decode()
    assert 'name="cell"' not in body
    assert "M1-01" not in body
    assert person_url(crowd["gutierrez"]) in body


@pytest.mark.django_db
def test_csv_export_holds_the_whole_filtered_result_and_is_formula_safe(
    crowd: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    hostile = make_person(actor, given_names="Gutierrez", first_surname="=HYPERLINK(1)")
    client = client_for(users["oversight"])
    response = client.get(reverse("web:person_list_csv"), {"q": "gutierrez"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["registry_id"] for r in rows} == {
        str(crowd["gutierrez"].pk),
        str(crowd["never"].pk),
        str(hostile.pk),
    }
    held = next(r for r in rows if r["registry_id"] == str(crowd["gutierrez"].pk))
    assert (held["status"], held["facility"], held["cell"]) == ("held", "TEC", "M1-01")
    shown = next(r for r in rows if r["registry_id"] == str(hostile.pk))
    assert shown["name"].startswith("'=HYPERLINK")


@pytest.mark.django_db
def test_pages_of_fifty_keep_the_filters(world: dict[str, Any], users: dict[str, Any],
                                         actor: Any) -> None:  # fmt: skip
    for i in range(55):
        make_person(actor, given_names=f"P{i:02d}", first_surname="Página", nationality="CU")
    client = client_for(users["oversight"])
    body = client.get(reverse("web:person_list"), {"nationality": "CU"}).content.decode()
    assert "55 people" in body
    assert "nationality=CU&amp;page=2" in body
    body = client.get(reverse("web:person_list"), {"nationality": "CU", "page": 2}).content.decode()
    assert body.count('class="person-name"') == 5


@pytest.mark.django_db
def test_query_count_is_bounded(
    crowd: dict[str, Any], users: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(users["staff"])
    # 15: one more than before, the registry's version (read once per request) under which
    # the nationality list and the count are kept
    with django_assert_max_num_queries(15):
        response = client.get(reverse("web:person_list"), {"q": "gutierrez", "status": "held"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_page_rows_status_agrees_with_the_status_filter_for_each_scope(
    crowd: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    """The 50 rows of a page read their status from their own episodes; it must be the
    status the filter and the export compute over the whole scope."""
    from habeas.custody.services import custody_release
    from habeas.web.search import with_columns

    custody_release(
        actor=actor,
        person=crowd["caps"],
        reason="returned_to_sending_state",
        at=dt.datetime.now(dt.UTC),
        destination="VE",
    )
    for role in ("oversight", "staff", "staff_oth", "liaison_us"):
        user = users[role]
        every = list(staff_search(user=user, filters=SearchFilters(), show_cells=True))
        rows = with_columns(user, every, True)
        exported = {
            p.pk: p.status
            for p in staff_search(user=user, filters=SearchFilters(), show_cells=True, columns=True)
        }
        assert {p.pk: p.status for p in rows} == exported, role
        assert exported, role
    statuses = {
        p.pk: p.status for p in with_columns(users["oversight"], list(crowd.values()), True)
    }
    assert statuses[crowd["caps"].pk] == "released"
    assert statuses[crowd["gutierrez"].pk] == "held"
    assert statuses[crowd["never"].pk] == "never"
