"""The documents the read endpoints return (INTERFACES.md: ids, money and dates as strings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.api.conftest import ADMITTED


def test_person_file_is_the_show_json_document(scene: dict[str, Any], client_for: Any) -> None:
    from habeas.custody.selectors import person_file

    person = scene["people"]["us"]
    body = client_for("oversight").get(f"/api/v1/persons/{person.pk}/").json()
    assert body == person_file(person)
    assert body["id"] == str(person.pk)
    assert body["cell"] is not None
    assert body["custody"] == [
        {
            "facility": "TEC",
            "agreement": "US-SV",
            "admitted_at": "2025-03-16T14:05:00Z",
            "released_at": None,
            "release_reason": None,
            "release_destination": None,
        }
    ]
    assert body["release_date"] is not None
    dt.date.fromisoformat(body["release_date"])
    assert body["legal_bases"][0]["sentence"] == "P5Y"


@pytest.mark.parametrize(
    ("user", "sees_cell"),
    [
        ("staff", True),
        ("admin", True),
        ("oversight", True),
        ("auditor", True),
        ("liaison_us", False),
        ("finance_us", False),
    ],
)
def test_housing_detail_is_hidden_from_liaison_and_finance(
    scene: dict[str, Any], client_for: Any, user: str, sees_cell: bool
) -> None:
    person, episode = scene["people"]["us"], scene["episodes"]["us"]
    client = client_for(user)
    file = client.get(f"/api/v1/persons/{person.pk}/").json()
    detail = client.get(f"/api/v1/custody-episodes/{episode.pk}/").json()
    assert (file["cell"] is not None) is sees_cell
    assert (detail["cell"] is not None) is sees_cell
    assert file["cell"] == detail["cell"]


def test_liaison_sees_only_episodes_under_their_agreements(
    scene: dict[str, Any], client_for: Any
) -> None:
    """The person moved from the US agreement to the Guatemalan one: the US liaison sees the
    person and the US episode, not where Guatemala holds them now."""
    person = scene["people"]["moved"]
    us_view = client_for("liaison_us").get(f"/api/v1/persons/{person.pk}/").json()
    assert [c["agreement"] for c in us_view["custody"]] == ["US-SV"]
    assert us_view["custody"][0]["release_reason"] == "transferred"
    gt_view = client_for("liaison_gt").get(f"/api/v1/persons/{person.pk}/").json()
    assert [c["agreement"] for c in gt_view["custody"]] == ["GT-SV"]
    staff_view = client_for("staff").get(f"/api/v1/persons/{person.pk}/").json()
    assert [c["agreement"] for c in staff_view["custody"]] == ["US-SV", "GT-SV"]


def test_person_list_items_and_search(scene: dict[str, Any], client_for: Any) -> None:
    client = client_for("oversight")
    person = scene["people"]["gt_tec"]
    ref = person.identifiers.get().value
    for query in (ref, "carla", "Tres Carla"):
        body = client.get("/api/v1/persons/", {"q": query}).json()
        assert body["count"] == 1, query
        assert body["items"] == [
            {
                "id": str(person.pk),
                "given_names": "Carla",
                "first_surname": "Tres",
                "second_surname": "Ramírez",
                "date_of_birth": "1990-05-17",
                "sex": "F",
                "nationalities": ["VE"],
                "sending_refs": [ref],
            }
        ]


def test_person_list_paginates(scene: dict[str, Any], client_for: Any) -> None:
    client = client_for("auditor")
    first = client.get("/api/v1/persons/", {"limit": 3}).json()
    rest = client.get("/api/v1/persons/", {"limit": 3, "offset": 3}).json()
    assert first["count"] == rest["count"] == 4
    assert len(first["items"]) == 3
    assert len(rest["items"]) == 1
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in rest["items"]}


def test_episode_list_and_open_filter(scene: dict[str, Any], client_for: Any) -> None:
    client = client_for("oversight")
    every = client.get("/api/v1/custody-episodes/").json()
    open_ = client.get("/api/v1/custody-episodes/", {"open": "true"}).json()
    closed = client.get("/api/v1/custody-episodes/", {"open": "false"}).json()
    assert every["count"] == 5
    assert open_["count"] == 4
    assert closed["count"] == 1
    released = closed["items"][0]
    episode = scene["episodes"]["moved_us"]
    assert released == {
        "id": str(episode.pk),
        "person": str(scene["people"]["moved"].pk),
        "person_name": "Dario Cuatro Ramírez",
        "facility": "TEC",
        "agreement": "US-SV",
        "admitted_at": "2025-03-16T14:05:00Z",
        "released_at": (ADMITTED + dt.timedelta(days=10)).isoformat().replace("+00:00", "Z"),
        "release_reason": "transferred",
        "release_destination": "SV",
    }
    admitted = [e["admitted_at"] for e in every["items"]]
    assert admitted == sorted(admitted, reverse=True)


def test_episode_detail(scene: dict[str, Any], client_for: Any) -> None:
    episode = scene["episodes"]["gt_tec"]
    body = client_for("staff").get(f"/api/v1/custody-episodes/{episode.pk}/").json()
    assert body["id"] == str(episode.pk)
    assert body["agreement"] == "GT-SV"
    assert body["legal_bases"] == [
        {
            "kind": "removal_order",
            "ref": "RO-1",
            "authority": "US",
            "offence": None,
            "sentence": None,
            "sentence_start": None,
            "custody_credit_days": 0,
            "ends_on": None,
            "id": str(episode.legal_bases.get().pk),
            "status": "active",
            "ended_on": None,
            "supersedes": None,
            "good_conduct_forfeited_days": 0,
            "removal_protection": False,
        }
    ]
    assert body["cell"].startswith("W1-")  # a woman on a civil basis: the women's module


def test_facility_occupancy(scene: dict[str, Any], client_for: Any) -> None:
    """TEC holds two people (a sentenced man, a woman on a removal order; the third was
    released). ICRC 3.4 m²: 18 m² usable → 5 certified per M-cell; W1-01 (11 m²) → 3.
    Working capacity 4 per M-cell, 2 in W1-01."""
    body = client_for("oversight").get("/api/v1/facilities/").json()
    assert [f["code"] for f in body] == ["OTH", "TEC"]
    tec = body[1]
    assert tec["population"] == 2
    assert tec["certified_capacity"] == 5 * 5 + 3
    assert tec["working_capacity"] == 4 * 5 + 2
    assert tec["occupancy_rate_certified"] == "7.1"  # 2 × 100 / 28
    assert tec["occupancy_rate_working"] == "9.1"  # 2 × 100 / 22
    assert tec["cells_over_certified"] == 0
    assert tec["jurisdiction"] == "SV"
    modules = {m["code"]: m for m in tec["modules"]}
    assert set(modules) == {"M1", "M2", "W1"}
    assert modules["W1"]["population"] == 1
    assert modules["W1"]["occupancy_rate_certified"] == "33.3"
    assert modules["W1"]["occupancy_rate_working"] == "50.0"
    assert modules["W1"]["population_kind"] == "adult_female"
    detail = client_for("staff").get("/api/v1/facilities/TEC/").json()
    assert detail == tec


def test_empty_facility(world: dict[str, Any], client_for: Any) -> None:
    body = client_for("auditor").get("/api/v1/facilities/OTH/").json()
    assert body["population"] == 0
    assert body["certified_capacity"] == 6  # CPT 4 m²: 24 m² → 6
    assert body["occupancy_rate_certified"] == "0.0"
    assert body["modules"][0]["cells_over_certified"] == 0


def test_agreements(scene: dict[str, Any], client_for: Any) -> None:
    body = client_for("finance_us").get("/api/v1/agreements/").json()
    assert body == [
        {
            "code": "US-SV",
            "sending": "US",
            "receiving": "SV",
            "policy": "outsourcing_2025",
            "policy_options": body[0]["policy_options"],
            "max_persons": 300,
            "starts": "2025-03-15",
            "ends": None,
            "currency": "USD",
            "per_person_day": "54.79",
            "day_count": "arrival_not_departure",
            "facilities": ["TEC"],
        }
    ]
    codes = [a["code"] for a in client_for("staff_oth").get("/api/v1/agreements/").json()]
    assert codes == ["GT-SV"]
    gt = client_for("oversight").get("/api/v1/agreements/GT-SV/").json()
    assert gt["facilities"] == ["OTH", "TEC"]
    assert gt["per_person_day"] == "30.00"


def test_ledger_size_is_public_and_matches_the_ledger(
    scene: dict[str, Any], client_for: Any
) -> None:
    from habeas.ledger.services import ledger_root, ledger_size

    body = client_for("anonymous").get("/api/v1/ledger/size").json()
    assert body == {"size": ledger_size(), "root": ledger_root().hex()}
    assert body["size"] > 0
