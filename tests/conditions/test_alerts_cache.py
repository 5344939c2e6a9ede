"""The alerts pages and API read alerts computed once per version of the registry
(performance issue, item 1): each reader's scope and language has its own copy and validator,
an acknowledgement (a service, so a ledger entry) shows at once, an unchanged registry answers
304, and a facility with thousands of alarms is shown a page at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.conditions.test_alerts import TIGHT_SETUP, _ack_api, _fill
from tests.conftest import make_user

START = dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _one_long_period(settings: Any) -> None:
    settings.HABEAS_STATS_MAX_AGE = 10**9


@pytest.fixture
def tight(world: dict[str, Any], actor: Any) -> Any:
    """The one-cell centre SMA of the alerts tests."""
    import tomllib

    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    setup_apply(actor=actor, document=parse_setup(tomllib.loads(TIGHT_SETUP), name="tight.toml"))
    return Facility.objects.get(code="SMA")


def _boss() -> Any:
    return make_user(
        username="boss", password="pw-boss-long", role="facility_admin", facility_codes=["SMA"]
    )


@pytest.mark.django_db
def test_api_answers_304_until_an_acknowledgement_changes_the_registry(
    tight: Any, actor: Any
) -> None:
    _fill(actor, tight, 4, START)
    client = Client()
    client.force_login(_boss())
    first = client.get("/api/v1/alerts?kind=space")
    assert first.status_code == 200
    assert first.json()["alerts"][0]["status"] == "open"
    etag = first["ETag"]
    assert client.get("/api/v1/alerts?kind=space", HTTP_IF_NONE_MATCH=etag).status_code == 304
    # another filter is another representation
    assert client.get("/api/v1/alerts", HTTP_IF_NONE_MATCH=etag).status_code == 200

    assert _ack_api(client, "space:cell:SMA/T-01").status_code == 201
    after = client.get("/api/v1/alerts?kind=space", HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200
    assert after.json()["alerts"][0]["status"] == "acknowledged"


@pytest.mark.django_db
def test_each_scope_reads_its_own_alerts(tight: Any, actor: Any, users: Any) -> None:
    """The cached copy of one reader is never served to a reader with another scope."""
    _fill(actor, tight, 4, START)
    boss = Client()
    boss.force_login(_boss())
    other = Client()
    other.force_login(users["staff"])  # TEC's staff: not SMA
    liaison = Client()
    liaison.force_login(users["liaison_us"])
    seen = boss.get("/api/v1/alerts")
    assert any(a["kind"] == "space" for a in seen.json()["alerts"])
    for client in (other, liaison):
        answer = client.get("/api/v1/alerts", HTTP_IF_NONE_MATCH=seen["ETag"])
        assert answer.status_code == 200
        assert not any(a["facility"] == "SMA" for a in answer.json()["alerts"])
        assert answer["ETag"] != seen["ETag"]
    assert "private" in seen["Cache-Control"]


@pytest.mark.django_db
def test_the_page_is_paginated(tight: Any, actor: Any, settings: Any) -> None:
    from habeas.conditions import views

    _fill(actor, tight, 4, START)
    client = Client()
    client.force_login(_boss())
    original = views.ALERTS_PER_PAGE
    views.ALERTS_PER_PAGE = 1
    try:
        html = client.get("/alerts/").content.decode()
        assert "Page 1 of" in html
        assert "page=2" in html
        second = client.get("/alerts/?page=2").content.decode()
        assert "Page 2 of" in second
    finally:
        views.ALERTS_PER_PAGE = original
