"""The housing pages: each page per role, and the move dialog, roll count and keep-apart
forms writing through the services (a refused target shows the rule that refused it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.conftest import admit, make_person, removal_order, sentence

pytestmark = pytest.mark.django_db

ADMITTED = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def housed(world: dict[str, Any], actor: Any) -> dict[str, Any]:
    a = make_person(actor, given_names="Ana", first_surname="Uno")
    b = make_person(actor, given_names="Beto", first_surname="Dos")
    civil = make_person(actor, given_names="Ciro", first_surname="Tres")
    admit(actor, a, world["tec"], world["us"], bases=[sentence()], at=ADMITTED, cell="M1-01")
    admit(actor, b, world["tec"], world["us"], bases=[sentence()], at=ADMITTED, cell="M1-02")
    admit(actor, civil, world["tec"], world["us"], bases=[removal_order()], at=ADMITTED)
    return {"a": a, "b": b, "civil": civil, **world}


def _client(users: dict[str, Any], name: str) -> Client:
    client = Client()
    if name != "anonymous":
        client.force_login(users[name])
    return client


def _pages(housed: dict[str, Any]) -> dict[str, str]:
    return {
        "index": "/housing/",
        "board": "/housing/TEC/",
        "board_filtered": "/housing/TEC/?module=M1&regime=criminal&over=on",
        "cell": "/housing/TEC/cells/M1-01/",
        "roll": "/housing/TEC/roll/",
        "occupancy": "/housing/TEC/occupancy/?days=10",
        "keep_apart": "/housing/keep-apart/",
        "move": f"/housing/people/{housed['a'].pk}/move/",
    }


#: page → status per user (anonymous is redirected to the login page).
EXPECTED = {
    "staff": {
        **dict.fromkeys(
            ["board", "board_filtered", "cell", "roll", "occupancy", "keep_apart", "move"], 200
        ),
        "index": 302,  # one facility: straight to its board
    },
    "oversight": dict.fromkeys(
        ["index", "board", "board_filtered", "cell", "roll", "occupancy", "keep_apart", "move"],
        200,
    ),
    "staff_oth": {
        "index": 302,  # one facility: straight to its board
        "board": 404,
        "board_filtered": 404,
        "cell": 404,
        "roll": 404,
        "occupancy": 404,
        "keep_apart": 200,
        "move": 404,
    },
    **{
        name: dict.fromkeys(
            ["index", "board", "board_filtered", "cell", "roll", "occupancy", "keep_apart", "move"],
            404,
        )
        for name in ("liaison_us", "finance_us")
    },
    # An account without a role: refused with the reason, not a 404 (issue 10, deliver 8).
    "norole": dict.fromkeys(
        ["index", "board", "board_filtered", "cell", "roll", "occupancy", "keep_apart", "move"],
        403,
    ),
    "anonymous": dict.fromkeys(
        ["index", "board", "board_filtered", "cell", "roll", "occupancy", "keep_apart", "move"],
        302,
    ),
}


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_pages_per_role(housed: dict[str, Any], users: dict[str, Any], user: str) -> None:
    client = _client(users, user)
    wrong = []
    for page, path in _pages(housed).items():
        status = client.get(path).status_code
        if status != EXPECTED[user][page]:
            wrong.append(f"{page}: {status} (expected {EXPECTED[user][page]})")
    assert not wrong, wrong


def test_nav_shows_housing_to_facility_roles_and_oversight(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    for name, shown in (("staff", True), ("oversight", True), ("liaison_us", False)):
        html = _client(users, name).get("/").content.decode()
        assert ('href="/housing/"' in html) is shown, name


def test_board_shows_cells_with_bars_and_filters(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    client = _client(users, "staff")
    html = client.get("/housing/TEC/").content.decode()
    assert html.count('<li class="hcell') == 6
    assert "hbar__mark--cert" in html
    assert "hbar__mark--work" in html
    assert "/static/housing/housing.css" in html
    civil = client.get("/housing/TEC/", {"regime": "civil"}).content.decode()
    assert "M2-01" in civil
    assert "M1-01" not in civil


def test_move_dialog_refuses_forbidden_target_showing_the_rule(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    client = _client(users, "staff")
    civil = housed["civil"]
    page = client.get(f"/housing/people/{civil.pk}/move/").content.decode()
    assert "separation:regime" in page  # M1 cells listed as refused, with the rule
    assert "Mandela Rule 11(c)" in page
    response = client.post(f"/housing/people/{civil.pk}/move/", {"cell": "M1-01", "reason": "try"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "The move to cell M1-01 was refused" in html
    assert "separation:regime" in html
    from habeas.housing.allocator import placement_model

    held = placement_model().objects.get(episode__person=civil, ended_at__isnull=True)
    assert held.cell.code.startswith("M2-")


def test_move_dialog_moves_through_the_service(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    client = _client(users, "staff")
    a = housed["a"]
    response = client.post(f"/housing/people/{a.pk}/move/", {"cell": "M1-03", "reason": "repairs"})
    assert response.status_code == 302
    assert response["Location"] == "/housing/TEC/cells/M1-03/"
    from habeas.ledger.models import LedgerEntry

    assert LedgerEntry.objects.order_by("-index").first().action == "placement.moved"  # type: ignore[union-attr]
    cell = client.get("/housing/TEC/cells/M1-03/").content.decode()
    assert "Uno" in cell
    assert "repairs" in cell
    # oversight reads the dialog but cannot move (403, as the housing API answers)
    assert (
        _client(users, "oversight")
        .post(f"/housing/people/{a.pk}/move/", {"cell": "M1-02", "reason": "x"})
        .status_code
        == 403
    )


def test_roll_count_page_records_and_shows_discrepancies(
    housed: dict[str, Any], users: dict[str, Any]
) -> None:
    client = _client(users, "staff")
    response = client.post(
        "/housing/TEC/roll/",
        {"counted_at": "2025-03-17T06:00", "cell-M1-01": "1", "cell-M1-02": "3"},
    )
    assert response.status_code == 302
    html = client.get("/housing/TEC/roll/").content.decode()
    assert "1 cell does not match the registry" in html
    assert "+2" in html
    bad = client.post("/housing/TEC/roll/", {"counted_at": "2025-03-17T06:00"})
    assert bad.status_code == 400


def test_keep_apart_page_opens_and_closes(housed: dict[str, Any], users: dict[str, Any]) -> None:
    from habeas.housing.models import KeepApart

    client = _client(users, "staff")
    a, b = housed["a"], housed["b"]
    response = client.post(
        "/housing/keep-apart/",
        {
            "person": a.pk,
            "role": "victim",
            "other": b.pk,
            "other_role": "aggressor",
            "scope": "module",
            "reason": "assault on 2025-03-17",
        },
    )
    assert response.status_code == 302
    ka = KeepApart.objects.get()
    listed = client.get("/housing/keep-apart/").content.decode()
    assert "assault on 2025-03-17" in listed
    cell = client.get("/housing/TEC/cells/M1-01/").content.decode()
    assert "Keep-apart warnings" in cell
    same = client.post(
        "/housing/keep-apart/",
        {
            "person": b.pk,
            "role": "other",
            "other": a.pk,
            "other_role": "other",
            "scope": "cell",
            "reason": "again",
        },
    )
    assert same.status_code == 400
    assert "already have an open keep-apart record" in same.content.decode()
    closed = client.post(f"/housing/keep-apart/{ka.pk}/close/", {"reason": "transferred"})
    assert closed.status_code == 302
    ka.refresh_from_db()
    assert ka.closed_at is not None
    assert ka.close_reason == "transferred"


def test_occupancy_chart_is_inline_svg(housed: dict[str, Any], users: dict[str, Any]) -> None:
    html = _client(users, "auditor").get("/housing/TEC/occupancy/").content.decode()
    assert html.count('<svg class="hchart__svg"') == 3
    assert "hchart__line" in html
    assert "hchart__cert" in html


def test_keep_apart_picks_people_by_name_and_asks_when_several_match(
    housed: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    from habeas.housing.models import KeepApart

    other_ana = make_person(actor, given_names="Ána", first_surname="UNO")
    admit(actor, other_ana, housed["tec"], housed["us"], bases=[sentence()], at=ADMITTED,
          cell="M1-03")  # fmt: skip
    outside = make_person(actor, given_names="Ana", first_surname="Uno")  # never admitted
    client = _client(users, "staff")
    form = {"role": "victim", "other": "beto dos", "other_role": "aggressor",
            "scope": "module", "reason": "threats"}  # fmt: skip
    nobody = client.post("/housing/keep-apart/", {**form, "person": "Zzyzx"})
    assert nobody.status_code == 400
    assert "Nobody in your scope matches" in nobody.content.decode()
    several = client.post("/housing/keep-apart/", {**form, "person": "ana uno"})
    assert several.status_code == 400
    body = several.content.decode()
    assert "pick one" in body
    assert 'name="person_pick"' in body
    assert f'value="{housed["a"].pk}"' in body
    assert f'value="{other_ana.pk}"' in body
    assert f'value="{outside.pk}"' not in body  # never admitted: outside the staff's scope
    picked = client.post(
        "/housing/keep-apart/", {**form, "person": "ana uno", "person_pick": housed["a"].pk}
    )
    assert picked.status_code == 302
    assert picked["Location"] == f"/people/{housed['a'].pk}/"
    ka = KeepApart.objects.get()
    assert {ka.person_a_id, ka.person_b_id} == {housed["a"].pk, housed["b"].pk}
