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
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from habeas.core.errors import ValidationFailed
from habeas.oversight.locator import LocatorQuery, locate, name_matches, person_tokens
from habeas.people.matching import tokens
from tests.conftest import admit, make_person
from tests.oversight.conftest import ADMITTED, ref_of

API = "/api/v1/locator"
CELL_CODES = ["M1-01", "M1-02", "M2-01", "W1-01", "A-01"]


def search(**params: Any) -> dict[str, Any]:
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
def test_query_validation(params: dict[str, Any], message: str) -> None:
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
                "released_to": None,
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
    # only the year is compared: a full date that disagrees with the known day tells nothing
    # more than the year (tests/oversight/test_locator_limits.py)
    assert (
        search(name="jose hernandez", dob="1990-05-18", nationality="VE")["matches"][0]["status"]
        == "in_custody"
    )


@pytest.mark.django_db
def test_by_reference_needs_the_right_nationality(scene: dict[str, Any]) -> None:
    ref = ref_of(scene["jose"])
    found = search(ref=ref.lower(), nationality="VE")["matches"]
    assert [m["status"] for m in found] == ["in_custody"]
    assert search(ref=ref, nationality="GT")["matches"] == [
        {
            "name": "",  # a reference is not a name
            "year_of_birth": None,
            "status": "not_found",
            "facility": None,
            "since": None,
            "released_on": None,
            "released_to": None,
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
                "released_to": None,
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


# --- the index (scale: benchmarks/bench_locator.py) -------------------------------------------


def test_deletion_variants_meet_exactly_within_one_typo() -> None:
    """Symmetric deletion: words one edit apart always share a variant (so the typo key misses
    nobody); short words have none (no typo is tolerated in them)."""
    from habeas.oversight.locator import deletion_variants

    word = "hernandez"
    for typo in ("hernandes", "hernadnez", "ernandez", "hhernandez", "gernandez", "hernandezz"):
        assert deletion_variants(word) & deletion_variants(typo), typo
    assert deletion_variants("ana") == frozenset()
    assert "hernandez" in deletion_variants("hernandez")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["jose gernandez", "jsoe ramirez", "alberto hernandezz", "ramirez hernandez josr"],
)
def test_a_typo_anywhere_in_one_word_is_tolerated(scene: dict[str, Any], name: str) -> None:
    """Including the first letter, which the matcher's phonetic blocking keys would miss."""
    doc = search(name=name, dob="1990", nationality="VE")
    assert [m["name"] for m in doc["matches"]] == ["José Alberto Hernández Ramírez"]


@pytest.mark.django_db
def test_rebuild_answers_like_the_incremental_index(scene: dict[str, Any]) -> None:
    from habeas.oversight.models import LocatorToken, LocatorVariant
    from habeas.oversight.services import locator_index_rebuild

    queries = [
        {"name": "jose hernandez", "dob": "1990", "nationality": "VE"},
        {"name": "jose hernadnez ramirez", "dob": "1990", "nationality": "VE"},
        {"name": "carlos cruz perez", "dob": "1988", "nationality": "GT"},
        {"name": "luis perez", "dob": "1979", "nationality": "VE"},
    ]
    tokens_before = set(LocatorToken.objects.values_list("token", "nationality", "person_id"))
    variants_before = set(LocatorVariant.objects.values_list("variant", "token"))
    before = [search(**q) for q in queries]
    assert locator_index_rebuild() == 6
    assert (
        set(LocatorToken.objects.values_list("token", "nationality", "person_id")) == tokens_before
    )
    assert set(LocatorVariant.objects.values_list("variant", "token")) == variants_before
    assert [search(**q) for q in queries] == before
    assert before[1]["matches"][0]["name"] == "José Alberto Hernández Ramírez"


WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "CREATE", "DROP", "ALTER", "COPY")


def _writes(queries: list[dict[str, Any]]) -> list[str]:
    """The statements among ``queries`` that write or lock rows for writing, but for the
    rate-limit counters in the shared cache (``settings.CACHE_TABLE``; ARCHITECTURE.md: rate
    limits live in Django's cache, whose database router sends them to the primary)."""
    found = []
    for q in queries:
        sql = " ".join(q["sql"].split()).upper()
        if settings.CACHE_TABLE.upper() in sql:
            continue
        if sql.startswith(WRITES) or " FOR UPDATE" in sql or " FOR NO KEY UPDATE" in sql:
            found.append(q["sql"])
    return found


@pytest.mark.django_db
def test_a_locator_request_never_writes(scene: dict[str, Any], actor: Any) -> None:
    """A search may be answered from a read replica (ARCHITECTURE.md, scale): ``locate()``,
    the public page and the API issue no INSERT, UPDATE, DELETE nor SELECT … FOR UPDATE, even
    right after a registration (the index was kept in the registration's transaction)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    newcomer = make_person(actor, given_names="Wilfredo", first_surname="Quispe", dob=None)
    admit(actor, newcomer, scene["tec"], scene["us"], cell="M1-01", at=ADMITTED)
    client = Client()
    with CaptureQueriesContext(connection) as ctx:
        doc = search(name="wilfredo quispe", public=False)
        by_ref = search(ref=ref_of(newcomer), nationality="VE", public=False)
        page = client.get(
            reverse("oversight:locator"),
            {"name": "jose hernandez", "dob": "1990", "nationality": "VE"},
        )
        api = client.get(API, {"name": "jose hernandez", "dob": "1990", "nationality": "VE"})
    assert [m["status"] for m in doc["matches"]] == ["in_custody"]
    assert [m["status"] for m in by_ref["matches"]] == ["in_custody"]
    assert page.status_code == 200
    assert api.status_code == 200
    assert "Hernández" in page.content.decode()
    assert len(ctx.captured_queries) > 0
    assert _writes(ctx.captured_queries) == []


@pytest.mark.django_db
def test_a_registration_is_indexed_in_its_own_transaction(
    scene: dict[str, Any], actor: Any
) -> None:
    """The ``people.created`` listener re-indexes in the appending transaction: the new
    person's words are in the index as soon as the service returns, and a registration
    that fails leaves no index row behind."""
    from django.db import transaction

    from habeas.oversight.models import LocatorToken

    person = make_person(actor, given_names="Wilfredo", first_surname="Quispe")
    assert set(
        LocatorToken.objects.filter(person_id=person.pk).values_list("token", flat=True)
    ) == {
        "wilfredo",
        "quispe",
        "ramirez",
    }
    before = LocatorToken.objects.count()

    def register_then_fail() -> None:
        with transaction.atomic():
            make_person(actor, given_names="Nadie", first_surname="Fantasma")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        register_then_fail()
    assert LocatorToken.objects.count() == before


@pytest.mark.django_db
def test_a_search_is_a_few_queries_whatever_the_candidates(
    scene: dict[str, Any], actor: Any, django_assert_max_num_queries: Any
) -> None:
    """Namesakes are read together (after the index refresh: one query for the typo key, one
    for the candidates' custody episodes, one for the rows of those shown), never one query
    per person."""
    for n in range(12):
        make_person(
            actor,
            given_names="José",
            first_surname="Hernández",
            second_surname=f"Namesake{n}",
            dob=dt.date(1990, 1, 1 + n),
        )
    with django_assert_max_num_queries(4):
        doc = search(name="jose hernandes", dob="1990", nationality="VE")
    # the one held among thirteen José Hernández born 1990 (exact matches hide the typo)
    assert [m["name"] for m in doc["matches"]] == ["José Alberto Hernández Ramírez"]


@pytest.mark.django_db
def test_server_side_search_without_nationality_or_year(scene: dict[str, Any], actor: Any) -> None:
    """The CLI may omit nationality and date of birth; a person of two nationalities is still
    one match, found by either."""
    from habeas.people.services import Identifier, PersonSpec, person_create

    dual = person_create(
        actor=actor,
        spec=PersonSpec(
            given_names="Wilmer",
            first_surname="Quintero",
            second_surname="",
            sex="M",
            nationalities=["CO", "VE"],
            date_of_birth=dt.date(1984, 2, 2),
            identifiers=[Identifier(authority="US", value="W-1984")],
        ),
    )
    admit(actor, dual, scene["tec"], scene["us"], cell="M1-03", at=ADMITTED)
    found = locate(LocatorQuery.build(name="wilmer quinterro", public=False))["matches"]
    assert [(m["name"], m["status"]) for m in found] == [("Wilmer Quintero", "in_custody")]
    for nationality in ("CO", "VE"):
        doc = search(name="quintero wilmer", dob="1984", nationality=nationality)
        assert [m["name"] for m in doc["matches"]] == ["Wilmer Quintero"]


@pytest.mark.django_db
def test_a_person_who_is_not_shown_hides_nobody(scene: dict[str, Any], actor: Any) -> None:
    """Mateo Tzul (never held) spells the search exactly; Mateo Tzull, held, is one typo
    away: he is found, and the answer says nothing of Mateo Tzul."""
    tzull = make_person(
        actor,
        given_names="Mateo",
        first_surname="Tzull",
        second_surname="",
        nationality="GT",
        authority="GT",
        dob=dt.date(1991, 6, 1),
    )
    admit(actor, tzull, scene["tec"], scene["gt"], cell="M1-03", at=ADMITTED)
    doc = search(name="mateo tzul", dob="1991", nationality="GT")
    assert [(m["name"], m["status"]) for m in doc["matches"]] == [("Mateo Tzull", "in_custody")]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["carlos hernandez hernandez", "carlos hernadnez hernandez"])
def test_a_repeated_surname_counts_twice(scene: dict[str, Any], actor: Any, name: str) -> None:
    """ "Hernández Hernández": the typo'd and the exact "hernandez" each take one of them."""
    twice = make_person(
        actor,
        given_names="Carlos",
        first_surname="Hernández",
        second_surname="Hernández",
        nationality="HN",
        dob=dt.date(1971, 6, 19),
    )
    admit(actor, twice, scene["tec"], scene["us"], cell="M1-03", at=ADMITTED)
    doc = search(name=name, dob="1971", nationality="HN")
    assert [m["name"] for m in doc["matches"]] == ["Carlos Hernández Hernández"]
