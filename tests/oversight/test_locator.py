"""The public locator (issue 5 item 6; INTERFACES.md ``locate``): accent-, case- and
surname-order-proof, one typo tolerated, never a cell, a legal document, another person's data
or whether a non-matching person exists; released within 90 days shown as released;
rate-limited; English and Spanish; the same answers from the page, the API and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from habeas.core.errors import ValidationFailed
from habeas.oversight.locator import (
    LocatorQuery,
    locate,
    name_matches,
    person_tokens,
    tokens,
)
from tests.conftest import admit, make_person
from tests.oversight.conftest import ADMITTED, ref_of

API = "/api/v1/locator"
CELL_CODES = ["M1-01", "M1-02", "M2-01", "W1-01", "A-01"]


def search(**params: str) -> dict[str, Any]:
    return locate(LocatorQuery.build(**params))


# --- normalisation (no database) ------------------------------------------------------------


def test_tokens_fold_accents_case_and_particles() -> None:
    assert tokens("José  HERNÁNDEZ-Ramírez") == ["jose", "hernandez", "ramirez"]
    assert tokens("María de la Cruz y Pérez") == ["maria", "cruz", "perez"]
    assert tokens("Ñúñez-Peña") == ["nunez", "pena"]


@pytest.mark.parametrize(
    ("query", "typos"),
    [
        ("jose hernandez", 0),
        ("hernandez jose", 0),
        ("ramirez hernandez alberto", 0),
        ("jose hernandes", 1),  # substitution
        ("jose hernadnez", 1),  # transposition
        ("joes hernandez", 1),
        ("jose alberto", None),  # no surname
        ("hernandez ramirez", None),  # no given name
        ("jsoe hernandes", None),  # two typos
        ("jose perez", None),
    ],
)
def test_name_matches(query: str, typos: int | None) -> None:
    person = person_tokens("José Alberto", "Hernández", "Ramírez")
    assert name_matches(tokens(query), person) == typos


def test_short_tokens_tolerate_no_typo() -> None:
    assert name_matches(["ina", "xol"], person_tokens("Ana", "Xol")) is None
    assert name_matches(["ana", "xol"], person_tokens("Ana", "Xol")) == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "jose hernandez", "dob": "1990"}, "the nationality is required"),
        ({"name": "jose", "dob": "1990", "nationality": "VE"}, "give at least one given name"),
        ({"name": "jose hernandez", "nationality": "VE"}, "the date or year of birth"),
        ({"name": "jose hernandez", "dob": "90", "nationality": "VE"}, "YYYY"),
        ({"name": "jose hernandez", "dob": "1990-13", "nationality": "VE"}, "YYYY"),
        ({"nationality": "VE"}, "give either a reference"),
        ({"ref": "A1", "nationality": "Venezuela"}, "two-letter"),
    ],
)
def test_query_validation(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        LocatorQuery.build(**params)


# --- the search -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_acceptance_jose_hernandez_1990_finds_the_full_name(scene: dict[str, Any]) -> None:
    doc = search(name="jose hernandez", dob="1990", nationality="VE")
    assert doc == {
        "matches": [
            {
                "name": "José Alberto Hernández Ramírez",
                "year_of_birth": 1990,
                "status": "in_custody",
                "facility": {
                    "name": "Test centre",
                    "address": "Km 77",
                    "phone": "+503 0000",
                    "visiting": "Weekdays",
                },
                "since": "2025-03-16",
                "released_on": None,
            }
        ]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "JOSÉ HERNÁNDEZ",
        "Hernández Ramírez José",
        "ramirez jose alberto",
        "Jose Hernandes",
        "jose hernadnez ramirez",
    ],
)
def test_accents_case_order_and_one_typo(scene: dict[str, Any], name: str) -> None:
    doc = search(name=name, dob="1990-05", nationality="ve")
    assert [m["name"] for m in doc["matches"]] == ["José Alberto Hernández Ramírez"]


@pytest.mark.django_db
def test_particles_are_ignored(scene: dict[str, Any]) -> None:
    doc = search(name="carlos cruz perez", dob="1988", nationality="GT")
    assert doc["matches"][0]["name"] == "Carlos de la Cruz y Pérez"
    assert doc["matches"][0]["facility"]["name"] == "Other centre"


@pytest.mark.django_db
def test_year_and_nationality_block_the_namesake(scene: dict[str, Any]) -> None:
    doc = search(name="jose hernandez", dob="1985", nationality="VE")
    assert [m["name"] for m in doc["matches"]] == ["José Hernández López"]
    assert (
        search(name="jose hernandez", dob="1990", nationality="MX")["matches"][0]["status"]
        == "not_found"
    )
    # a full date that disagrees with the known day
    assert (
        search(name="jose hernandez", dob="1990-05-18", nationality="VE")["matches"][0]["status"]
        == "not_found"
    )


@pytest.mark.django_db
def test_by_reference_needs_the_right_nationality(scene: dict[str, Any]) -> None:
    ref = ref_of(scene["jose"])
    found = search(ref=ref.lower(), nationality="VE")["matches"]
    assert [m["status"] for m in found] == ["in_custody"]
    assert search(ref=ref, nationality="GT")["matches"] == [
        {
            "name": ref,
            "year_of_birth": None,
            "status": "not_found",
            "facility": None,
            "since": None,
            "released_on": None,
        }
    ]


@pytest.mark.django_db
def test_released_within_90_days_shown_as_released(scene: dict[str, Any]) -> None:
    m = search(name="luis perez", dob="1979", nationality="VE")["matches"][0]
    assert m["status"] == "released"
    assert m["released_on"] is not None
    assert m["facility"]["name"] == "Test centre"


@pytest.mark.django_db
def test_long_released_never_held_and_nobody_read_the_same(scene: dict[str, Any]) -> None:
    """A person released 200 days ago, a person never held and nobody at all give the same
    answer: the locator never tells whether a non-matching person exists."""
    released_long_ago = search(name="ana xol", dob="1992", nationality="GT")
    never_held = search(name="mateo tzul", dob="1991", nationality="GT")
    for doc, name, year in (
        (released_long_ago, "ana xol", 1992),
        (never_held, "mateo tzul", 1991),
    ):
        nobody = search(name=name, dob=str(year), nationality="AR")
        assert doc == nobody
        assert doc["matches"] == [
            {
                "name": name,
                "year_of_birth": year,
                "status": "not_found",
                "facility": None,
                "since": None,
                "released_on": None,
            }
        ]


@pytest.mark.django_db
def test_people_registered_after_a_search_are_found(scene: dict[str, Any], actor: Any) -> None:
    assert (
        search(name="pedro paramo", dob="1970", nationality="MX")["matches"][0]["status"]
        == "not_found"
    )
    pedro = make_person(
        actor,
        given_names="Pedro",
        first_surname="Páramo",
        second_surname="",
        nationality="MX",
        dob=dt.date(1970, 1, 1),
    )
    admit(actor, pedro, scene["tec"], scene["us"], cell="M1-03", at=ADMITTED)
    assert (
        search(name="pedro paramo", dob="1970", nationality="MX")["matches"][0]["status"]
        == "in_custody"
    )


# --- page, API, CLI -------------------------------------------------------------------------


def _locator_page(client: Client, **params: str) -> Any:
    return client.get(reverse("oversight:locator"), params)


@pytest.mark.django_db
def test_page_anonymous_shows_facility_never_a_cell(scene: dict[str, Any]) -> None:
    client = Client()
    empty = client.get(reverse("oversight:locator"))
    assert empty.status_code == 200
    page = _locator_page(client, name="jose hernandez", dob="1990", nationality="VE")
    body = page.content.decode()
    assert page.status_code == 200
    assert "José Alberto Hernández Ramírez" in body
    assert "Km 77" in body
    assert "+503 0000" in body
    assert "Weekdays" in body
    for code in CELL_CODES:
        assert code not in body
    for secret in ("CR-1", "RO-1", "robbery", ref_of(scene["jose"]), "US-SV", "López"):
        assert secret not in body


@pytest.mark.django_db
def test_api_anonymous_never_a_cell(scene: dict[str, Any]) -> None:
    response = Client().get(API, {"name": "jose hernandez", "dob": "1990", "nationality": "VE"})
    assert response.status_code == 200
    body = response.content.decode()
    assert response.json()["matches"][0]["name"] == "José Alberto Hernández Ramírez"
    for code in CELL_CODES:
        assert code not in body
    for secret in ("CR-1", "robbery", ref_of(scene["jose"]), "US-SV"):
        assert secret not in body


@pytest.mark.django_db
def test_api_refuses_an_incomplete_query(scene: dict[str, Any]) -> None:
    response = Client().get(API, {"name": "jose hernandez", "dob": "1990"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_page_reports_an_incomplete_query(scene: dict[str, Any]) -> None:
    page = _locator_page(Client(), name="jose", dob="1990", nationality="VE")
    assert page.status_code == 200
    assert "Give at least one given name and one surname." in page.content.decode()


@pytest.mark.django_db
def test_rate_limited_per_client(scene: dict[str, Any], settings: Any) -> None:
    settings.LOCATOR_RATE_PER_MINUTE = 3
    params = {"name": "jose hernandez", "dob": "1990", "nationality": "VE"}
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(3):
        assert client.get(API, params).status_code == 200
    refused = client.get(API, params)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    page = _locator_page(client, **params)
    assert page.status_code == 429
    assert "José Alberto" not in page.content.decode()
    # another client is not affected
    assert Client(REMOTE_ADDR="10.0.0.2").get(API, params).status_code == 200


@pytest.mark.django_db
def test_page_in_spanish(scene: dict[str, Any]) -> None:
    client = Client()
    client.cookies["django_language"] = "es"
    page = _locator_page(client, name="jose hernandez", dob="1990", nationality="VE")
    body = page.content.decode()
    assert "Buscar a una persona detenida" in body
    with translation.override("es"):
        in_custody, not_found = gettext("In custody"), gettext("Not found")
    assert in_custody != "In custody"
    assert in_custody in body
    missing = _locator_page(client, name="nadie nunca", dob="1990", nationality="VE")
    assert not_found != "Not found"
    assert not_found in missing.content.decode()


@pytest.mark.django_db
def test_cli_locate_json(scene: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command(
        "locate",
        "--name",
        "jose hernandez",
        "--dob",
        "1990",
        "--nationality",
        "VE",
        "--json",
        stdout=out,
    )
    doc = json.loads(out.getvalue())
    assert doc["matches"][0]["status"] == "in_custody"
    assert "M1-01" not in out.getvalue()
    out = io.StringIO()
    call_command("locate", "--ref", ref_of(scene["carla"]), stdout=out)
    assert "Other centre" in out.getvalue()
    assert "A-01" not in out.getvalue()
