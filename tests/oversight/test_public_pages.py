"""The public pages for families, lawyers and consulates (Mandela Rules 58 and 68): a released
person's result says when and to which country, not the prison's visiting rules; visiting text
per language from the setup file; the statistics' alert label; a sign-in link. English and
Spanish, through HTTP, the CLI and the setup file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from habeas.facilities.models import Facility
from habeas.ledger.services import ledger_size
from tests.conftest import SMALL_SETUP, run_cli

API = "/api/v1/locator"
JOSE = {"name": "jose hernandez", "dob": "1990", "nationality": "VE"}
LUIS = {"name": "luis perez", "dob": "1979", "nationality": "VE"}
PER_LANGUAGE = (
    'visiting = {en = "Saturdays 9:00-12:00, with an identity document", '
    'es = "Sábados de 9:00 a 12:00, con documento de identidad"}'
)


def page(language: str, **params: str) -> str:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get(reverse("oversight:locator"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "released", "destination", "visiting"),
    [
        ("en", "Released on", "Venezuela", "Visiting"),
        ("es", "Liberado el", "Venezuela", "Visitas"),
    ],
)
def test_a_released_person_shows_date_and_destination_not_visiting(
    scene: dict[str, Any], language: str, released: str, destination: str, visiting: str
) -> None:
    body = page(language, **LUIS)
    doc = json.loads(Client().get(API, LUIS).content)["matches"][0]
    assert doc["status"] == "released"
    assert doc["released_to"] == "VE"
    assert doc["facility"]["visiting"] == ""
    assert released in body
    assert doc["released_on"] in body
    assert destination in body
    assert "Weekdays" not in body
    assert f"<dt>{visiting}</dt>" not in body
    held = page(language, **JOSE)
    assert "Weekdays" in held
    assert f"<dt>{visiting}</dt>" in held


@pytest.mark.django_db
def test_cli_locate_says_where_a_released_person_went(scene: dict[str, Any]) -> None:
    code, out, _ = run_cli("locate", "--name", "luis perez", "--nationality", "VE")
    assert code == 0
    assert "released on" in out
    assert " to VE" in out
    assert "visiting" not in out


@pytest.mark.django_db
def test_visiting_text_per_language_from_the_setup_file(
    scene: dict[str, Any], tmp_path: Path
) -> None:
    setup = tmp_path / "setup.toml"
    setup.write_text(SMALL_SETUP.replace('visiting = "Weekdays"', PER_LANGUAGE), encoding="utf-8")
    size = ledger_size()
    code, out, err = run_cli("apply", str(setup))
    assert code == 0, err
    assert "1 amended" in out
    assert ledger_size() == size + 1
    tec = Facility.objects.get(code="TEC")
    assert tec.visiting.startswith("Saturdays")
    assert tec.visiting_translations["es"].startswith("Sábados")
    assert "Saturdays 9:00" in page("en", **JOSE)
    spanish = page("es", **JOSE)
    assert "Sábados de 9:00" in spanish
    assert "Saturdays" not in spanish
    es_api = Client(HTTP_ACCEPT_LANGUAGE="es").get(API, JOSE).json()
    assert es_api["matches"][0]["facility"]["visiting"].startswith("Sábados")
    # applying the same file again changes nothing
    code, out, _ = run_cli("apply", str(setup))
    assert "nothing changed" in out
    assert ledger_size() == size + 1
    # and verify-ledger replays the texts per language to what the table holds
    assert run_cli("verify-ledger")[0] == 0


@pytest.mark.django_db
def test_visiting_in_an_unknown_language_is_refused_naming_it(
    world: dict[str, Any], tmp_path: Path
) -> None:
    setup = tmp_path / "bad.toml"
    setup.write_text(
        SMALL_SETUP.replace('visiting = "Weekdays"', 'visiting = {en = "Mondays", fr = "Lundi"}'),
        encoding="utf-8",
    )
    size = ledger_size()
    code, _, err = run_cli("apply", str(setup))
    assert code == 2
    assert "bad.toml" in err
    assert "unknown language fr" in err
    assert ledger_size() == size


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "label", "sign_in"),
    [
        ("en", "Open alerts (legal basis, space, capacity, roll count)", "Staff sign-in"),
        (
            "es",
            "Alertas abiertas (base legal, espacio, capacidad, recuento)",
            "Acceso del personal",
        ),
    ],
)
def test_statistics_label_and_sign_in_link(
    scene: dict[str, Any], language: str, label: str, sign_in: str
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    stats = client.get(reverse("oversight:statistics")).content.decode()
    assert label in stats
    assert "heat, space" not in stats
    login = reverse("web:login")
    for url in (reverse("oversight:statistics"), reverse("oversight:locator")):
        body = client.get(url).content.decode()
        assert f'href="{login}"' in body
        assert sign_in in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "blank", "germany"),
    [("en", "Choose a country", "Germany"), ("es", "Elija un país", "Alemania")],
)
def test_the_nationality_select_lists_countries_in_the_language_and_keeps_the_choice(
    scene: dict[str, Any], language: str, blank: str, germany: str
) -> None:
    """The options are built once per language (issue 15 item 5, the locator under load):
    each language still gets its own names, and the searched nationality stays selected."""
    for _ in range(2):  # the second page comes from the kept options
        empty = page(language)
        assert f'<option value="">{blank}</option>' in empty
        assert f'<option value="DE">{germany}</option>' in empty
        assert " selected>" not in empty
        searched = page(language, **JOSE)
        assert searched.count(" selected>") == 1
        assert '<option value="VE" selected>' in searched
        assert '<option value="DE">' in searched
