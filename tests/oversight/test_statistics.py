"""Public statistics (issue 5 item 7; Mandela Rule 10): population and occupancy against
certified and working capacity per facility and module, by nationality, sex, legal basis and
agreement, deaths; counts under 5 shown as "<5" in the public views and downloads only; CSV
and JSON; a server-rendered SVG chart of population against capacity over time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from habeas.oversight.selectors import population_series, public_stats_document, stats_document
from tests.conftest import admit, make_person
from tests.oversight.conftest import ADMITTED

STATS_KEYS = {"facilities", "by_nationality", "by_sex", "by_legal_basis", "open_alerts"}
FACILITY_KEYS = {
    "code",
    "population",
    "certified_capacity",
    "working_capacity",
    "occupancy_rate_certified",
    "occupancy_rate_working",
    "modules",
}
MODULE_KEYS = {
    "code",
    "population",
    "certified_capacity",
    "working_capacity",
    "cells_over_certified",
}


@pytest.fixture
def crowd(scene: dict[str, Any], actor: Any) -> dict[str, Any]:
    """Six more Venezuelan men in TEC M1 (eight in TEC in all)."""
    for i in range(6):
        p = make_person(
            actor, given_names=f"Extra{i}", first_surname="Crowd", dob=dt.date(1980 + i, 1, 1)
        )
        admit(actor, p, scene["tec"], scene["us"], cell=f"M1-0{1 + i % 3}", at=ADMITTED)
    return scene


@pytest.mark.django_db
def test_stats_document_keeps_its_keys_and_is_not_suppressed(scene: dict[str, Any]) -> None:
    doc = stats_document()
    assert set(doc) >= STATS_KEYS
    tec = next(f for f in doc["facilities"] if f["code"] == "TEC")
    assert set(tec) >= FACILITY_KEYS
    assert all(set(m) >= MODULE_KEYS for m in tec["modules"])
    assert tec["population"] == 2  # habeas stats shows small counts as they are
    assert doc["by_nationality"] == {"GT": 1, "VE": 2}
    assert doc["deaths_in_custody"] == 0


@pytest.mark.django_db
def test_public_document_suppresses_small_counts(crowd: dict[str, Any]) -> None:
    doc = public_stats_document()
    tec = next(f for f in doc["facilities"] if f["code"] == "TEC")
    oth = next(f for f in doc["facilities"] if f["code"] == "OTH")
    assert tec["population"] == 8
    assert tec["occupancy_rate_certified"] is not None
    assert oth["population"] == "<5"
    assert oth["occupancy_rate_certified"] is None
    assert oth["occupancy_rate_working"] is None
    m1 = next(m for m in tec["modules"] if m["code"] == "M1")
    w1 = next(m for m in tec["modules"] if m["code"] == "W1")
    assert m1["population"] == 8
    assert w1["population"] == 0  # zero discloses nobody
    assert doc["by_nationality"] == {"GT": "<5", "VE": 8}
    assert doc["population"] == 9


@pytest.mark.django_db
def test_population_series_from_admissions_and_releases(scene: dict[str, Any]) -> None:
    series = population_series(until=dt.date(2025, 4, 20))
    tec = dict(series["TEC"])
    # 16 March: José, his namesake, Luis and Ana admitted; Ana released on 15 April
    assert tec[dt.date(2025, 3, 16)] == 4
    assert tec[dt.date(2025, 4, 14)] == 4
    assert tec[dt.date(2025, 4, 15)] == 3
    assert dict(series["OTH"])[dt.date(2025, 3, 16)] == 1
    assert min(tec) == dt.date(2025, 3, 16)


@pytest.mark.django_db
def test_public_page_anonymous_with_chart_and_suppression(crowd: dict[str, Any]) -> None:
    page = Client().get(reverse("oversight:statistics"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    assert "<polyline" in body
    # the chart is drawn on the server: the only script is the menu's, for phones
    assert re.findall(r"<script[^>]*>", body) == [f'<script src="{static("habeas/nav.js")}" defer>']
    assert "&lt;5" in body
    assert "Test centre" in body
    assert "Other centre" in body
    for code in ("M1-01", "M1-02", "A-01"):
        assert code not in body  # totals per module, never cells


@pytest.mark.django_db
def test_public_page_in_spanish(scene: dict[str, Any]) -> None:
    client = Client()
    client.cookies["django_language"] = "es"
    body = client.get(reverse("oversight:statistics")).content.decode()
    assert "Estadísticas públicas" in body
    assert "Por nacionalidad" in body


@pytest.mark.django_db
def test_csv_download(crowd: dict[str, Any]) -> None:
    response = Client().get(reverse("oversight:statistics_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    facility = {r["facility"]: r for r in rows if r["table"] == "facility"}
    assert facility["TEC"]["population"] == "8"
    assert facility["OTH"]["population"] == "<5"
    assert facility["OTH"]["occupancy_rate_certified"] == ""
    nationality = {r["category"]: r["population"] for r in rows if r["table"] == "nationality"}
    assert nationality == {"GT": "<5", "VE": "8"}
    assert any(r["table"] == "daily_population" for r in rows)


@pytest.mark.django_db
def test_json_download_and_api(crowd: dict[str, Any]) -> None:
    download = Client().get(reverse("oversight:statistics_json"))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    api = Client().get("/api/v1/statistics")
    assert api.status_code == 200
    assert (
        api.json()["by_nationality"] == download.json()["by_nationality"] == {"GT": "<5", "VE": 8}
    )
    assert "population_series" in api.json()
