"""The public statistics are computed once per version of the registry and validated by an
ETag tied to the ledger (performance issue, item 1): an unchanged registry answers 304, any
change through a service shows at once, and the cached figures always equal a computation
from scratch (hypothesis, over random sequences of admissions, moves and releases)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from habeas.core.actor import Actor
from habeas.custody.models import CustodyEpisode
from habeas.custody.services import custody_release
from habeas.ledger.freshness import etag_for, registry_version
from habeas.oversight.selectors import public_stats_cached, public_stats_document
from tests.conftest import admit, make_person
from tests.oversight.conftest import ADMITTED


@pytest.fixture(autouse=True)
def _one_long_period(settings: Any) -> None:
    """No period boundary falls inside a test: only the ledger moves the version."""
    settings.HABEAS_STATS_MAX_AGE = 10**9


PAGES = ["/statistics/", "/statistics.json", "/statistics.csv", "/api/v1/statistics"]


def _release(actor: Actor, person: Any) -> None:
    custody_release(
        actor=actor,
        person=person,
        reason="repatriated",
        at=ADMITTED + dt.timedelta(days=3),
        destination="VE",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_unchanged_registry_answers_304_and_a_change_shows_at_once(
    scene: dict[str, Any], actor: Actor, url: str
) -> None:
    client = Client()
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('W/"')
    assert "no-cache" in first["Cache-Control"]

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""

    _release(actor, scene["jose"])  # a service: one more ledger entry
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


@pytest.mark.django_db
def test_the_page_shows_the_new_population_after_a_release(
    scene: dict[str, Any], actor: Actor
) -> None:
    people = []
    for i in range(6):  # enough people that the counts are not suppressed
        person = make_person(
            actor, given_names=f"Extra{i}", first_surname="Crowd", dob=dt.date(1980 + i, 1, 1)
        )
        admit(actor, person, scene["tec"], scene["us"], cell=f"M1-0{1 + i % 3}", at=ADMITTED)
        people.append(person)
    before = public_stats_cached()
    _release(actor, people[0])
    after = public_stats_cached()
    assert after == public_stats_document()

    def tec(doc: dict[str, Any]) -> int:
        return int(next(f["population"] for f in doc["facilities"] if f["code"] == "TEC"))

    assert tec(after) == tec(before) - 1


@pytest.mark.django_db
def test_each_language_and_format_has_its_own_validator(scene: dict[str, Any]) -> None:
    client = Client()
    english = client.get("/statistics/", HTTP_ACCEPT_LANGUAGE="en")["ETag"]
    spanish = client.get("/statistics/", HTTP_ACCEPT_LANGUAGE="es")["ETag"]
    assert english != spanish
    # a validator of one representation never answers 304 for another
    assert (
        client.get("/statistics/", HTTP_ACCEPT_LANGUAGE="es", HTTP_IF_NONE_MATCH=english)["ETag"]
        == spanish
    )
    assert (
        client.get(
            "/statistics/", HTTP_ACCEPT_LANGUAGE="es", HTTP_IF_NONE_MATCH=english
        ).status_code
        == 200
    )
    assert client.get("/statistics.json", HTTP_IF_NONE_MATCH=english).status_code == 200


@pytest.mark.django_db
def test_the_version_moves_with_the_clock_period(scene: dict[str, Any], settings: Any) -> None:
    """A change that comes from the clock alone (a basis expiring at midnight) shows within
    HABEAS_STATS_MAX_AGE seconds: the version carries the period."""
    settings.HABEAS_STATS_MAX_AGE = 60
    assert registry_version(now=120.0) == registry_version(now=179.9)
    assert registry_version(now=120.0) != registry_version(now=180.0)
    assert etag_for("1.a.2", "html", "en") != etag_for("1.a.3", "html", "en")


@pytest.mark.django_db
def test_html_is_private_and_downloads_are_public(scene: dict[str, Any]) -> None:
    client = Client()
    assert client.get("/statistics/")["Cache-Control"].startswith("private")
    assert client.get("/statistics.json")["Cache-Control"].startswith("public")


STEPS = st.lists(
    st.tuples(st.sampled_from(["admit", "release", "read"]), st.integers(0, 5)),
    min_size=1,
    max_size=8,
)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_cached_figures_always_equal_a_computation_from_scratch(
    world: dict[str, Any], actor: Actor, steps: list[tuple[str, int]]
) -> None:
    """After any sequence of admissions and releases, with reads in between that fill the
    cache, the cached public document is the one computed from the tables now."""
    with transaction.atomic():  # each example starts from the same world
        _run_steps(world, actor, steps)
        transaction.set_rollback(True)


def _run_steps(world: dict[str, Any], actor: Actor, steps: list[tuple[str, int]]) -> None:
    cache.clear()
    people: list[Any] = []
    for i, (step, n) in enumerate(steps):
        if step == "admit":
            person = make_person(
                actor,
                given_names=f"Prop{i}",
                first_surname="Fresh",
                dob=dt.date(1970 + n, 1, 1 + i),
            )
            admit(
                actor,
                person,
                world["tec"],
                world["us"],
                cell=f"M1-0{1 + len(people) % 3}",
                at=ADMITTED,
            )
            people.append(person)
        elif step == "release":
            held = [p for p in people if CustodyEpisode.objects.open().filter(person=p).exists()]
            if held:
                _release(actor, held[n % len(held)])
        else:
            assert public_stats_cached() == public_stats_document()
    assert public_stats_cached() == public_stats_document()


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_unchanged_registry_answers_304_to_either_validator(
    scene: dict[str, Any], actor: Actor, url: str
) -> None:
    """``ETag`` and ``Last-Modified`` both name the registry's version: an unchanged registry
    answers 304 to ``If-None-Match`` and to ``If-Modified-Since``; a change through a service
    answers 200 to both. ``Last-Modified`` is sent once its second is over."""
    client = Client()
    _second_over()
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=modified)
    assert by_date.status_code == 304
    assert by_date["Last-Modified"] == modified

    _release(actor, scene["jose"])
    _second_over()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    changed = client.get(url, HTTP_IF_MODIFIED_SINCE=modified)
    assert changed.status_code == 200
    assert changed["Last-Modified"] != modified
    # If-None-Match decides when both are sent (RFC 9110 §13.2.2)
    assert (
        client.get(
            url, HTTP_IF_NONE_MATCH=etag, HTTP_IF_MODIFIED_SINCE=changed["Last-Modified"]
        ).status_code
        == 200
    )


def _second_over() -> None:
    """Wait until the second in which the registry's version began is over."""
    import time

    from habeas.ledger import freshness

    modified = freshness.last_modified(freshness.registry_version())
    time.sleep(max(0.0, int(modified) + 1.01 - time.time()))


@pytest.mark.django_db
def test_last_modified_is_not_sent_while_its_second_lasts(
    scene: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change later in the same second would not move a date of one-second precision:
    until that second is over only the ETag validates."""
    from habeas.ledger import freshness

    version = freshness.registry_version()
    modified = freshness.last_modified(version)
    within = (modified + int(modified) + 1) / 2  # after the change, before its second ends
    monkeypatch.setattr(freshness.time, "time", lambda: within)
    response = Client().get("/statistics.json")
    assert response.status_code == 200
    assert "Last-Modified" not in response
    assert "ETag" in response
