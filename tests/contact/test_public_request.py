"""The public visit request (Mandela Rule 58(1)): the same answer whether or not the person
is held there (nothing beyond the locator), hostile input refused with a 4xx and nothing
stored, and a rate limit on the shared cache (docs/security.md, finding 7)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.contact.conftest import next_saturday_9


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _form(person: Any, fac: Any, **over: Any) -> dict[str, str]:
    ref = person.identifiers.get().value if person is not None else "A99999999"
    return {
        "nationality": "VE",
        "reference": ref,
        "facility": fac.code,
        "slot": next_saturday_9(fac).isoformat(),
        "visitor_name": "Rosa Hernández",
        "relation": "madre",
        "id_document": "DUI 01234567-8",
        **over,
    }


def _stored() -> tuple[int, int]:
    from habeas.contact.models import Visit, Visitor
    from habeas.ledger.services import ledger_size

    return ledger_size() + Visitor.objects.count(), Visit.objects.count()


def test_public_request_becomes_a_request_for_staff(slotted: Any, held: Any) -> None:
    from habeas.contact.models import Visit

    response = Client().post("/visiting/request/", _form(held, slotted["tec"]))
    assert response.status_code == 200
    assert "Request received" in response.content.decode()
    visit = Visit.objects.get()
    assert (visit.person_id, visit.status, visit.source) == (held.pk, "requested", "public")


def test_public_request_answers_alike_for_someone_not_held(slotted: Any, held: Any) -> None:
    """Nothing beyond the locator: an unknown reference, a wrong nationality and someone
    held elsewhere get the very page a match gets, and nothing is kept."""
    before = _stored()
    match = Client().post("/visiting/request/", _form(held, slotted["tec"])).content.decode()
    cache.clear()
    after_match = _stored()
    assert after_match != before
    for over in ({"reference": "Z0000001"}, {"nationality": "CO"}):
        page = Client().post("/visiting/request/", _form(held, slotted["tec"], **over))
        assert page.status_code == 200
        assert _strip(page.content.decode()) == _strip(match)
    assert _stored() == after_match


def _strip(html: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_public_request_refuses_a_slot_not_offered(slotted: Any, held: Any) -> None:
    response = Client().post(
        "/visiting/request/", _form(held, slotted["tec"], slot="2025-01-01T09:00:00-06:00")
    )
    assert response.status_code == 400
    assert "Choose one of the visiting slots listed." in response.content.decode()


HOSTILE = [
    {"visitor_name": "x" * 100_000},
    {"visitor_name": "Ro\x00sa"},
    {"visitor_name": "Ro\x01\x02sa"},
    {"visitor_name": " ".join(["a"] * 500)},
    {"reference": "A1' OR '1'='1"},
    {"reference": "<script>alert(1)</script>"},
    {"reference": "9" * 5000},
    {"nationality": "\u0661\u0662"},
    {"nationality": "V"},
    {"facility": "TEC" * 1000},
    {"facility": "../../etc/passwd"},
    {"slot": "9999-99-99T99:99"},
    {"slot": "\x00"},
    {"relation": "m\x1bdre"},
    {"id_document": "\ufeff" * 300},
]


@pytest.mark.parametrize("over", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_public_request_refuses_hostile_input_quickly_and_stores_nothing(
    slotted: Any, held: Any, over: dict[str, str]
) -> None:
    client = Client()
    client.get("/visiting/request/")  # warm-up: templates
    before = _stored()
    started = time.process_time()
    response = client.post("/visiting/request/", _form(held, slotted["tec"], **over))
    assert time.process_time() - started < 1.0
    assert 400 <= response.status_code < 500, response.content.decode()[:500]
    assert _stored() == before
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_public_request_is_rate_limited_per_address(slotted: Any, held: Any, settings: Any) -> None:
    settings.HABEAS_VISIT_REQUESTS_PER_HOUR = 3
    client = Client()
    codes = [
        client.post(
            "/visiting/request/", _form(None, slotted["tec"], reference=f"Z{i:07d}")
        ).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post("/visiting/request/", _form(None, slotted["tec"])).status_code == 200


def test_public_request_is_rate_limited_per_reference(
    slotted: Any, held: Any, settings: Any
) -> None:
    settings.HABEAS_VISIT_REQUESTS_PER_REFERENCE_PER_DAY = 2
    codes = [
        Client(REMOTE_ADDR=f"203.0.113.{i}")
        .post("/visiting/request/", _form(None, slotted["tec"]))
        .status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]


def test_the_rate_limit_is_counted_in_the_shared_cache(slotted: Any, settings: Any) -> None:
    """The count lives in Django's configured cache (the database, or Redis with
    ``HABEAS_CACHE_URL``), not in the process: a second cache client, as another worker would
    open, sees the slots the first one claimed."""
    import hashlib

    from django.core.cache import caches

    from habeas.contact.throttle import client_throttle
    from habeas.core.clock import now

    backend = settings.CACHES["default"]["BACKEND"]
    assert backend.endswith(("DatabaseCache", "RedisCache"))
    settings.HABEAS_VISIT_REQUESTS_PER_HOUR = 1
    assert client_throttle("198.51.100.1").allowed
    stamp = int(now().timestamp())
    digest = hashlib.sha256(b"198.51.100.1").hexdigest()[:32]
    key = f"habeas:visit-request:client:{digest}:{stamp - stamp % 3600}:0"
    other_worker = caches.create_connection("default")
    assert other_worker.get(key) == 1
    assert not client_throttle("198.51.100.1").allowed


def test_visiting_page_shows_rules_and_slots_per_language(slotted: Any) -> None:
    page = Client().get("/visiting/").content.decode()
    assert "Weekends" in page
    assert "Places left" in page
    page = Client(HTTP_ACCEPT_LANGUAGE="es").get("/visiting/", HTTP_COOKIE="django_language=es")
    assert "Fines de semana" in page.content.decode()
