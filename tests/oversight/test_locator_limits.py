"""The locator's limits (docs/security.md, "Locator"; issue 10 item 7).

The review found: the rate limit was counted per process (30 × the number of workers), every
family behind a reverse proxy shared one address, and an exact date of birth could be
recovered with at most 12 + 31 searches (the month, then the day, changed the answer). Now:
the counts live in the shared cache (database by default, Redis with ``HABEAS_CACHE_URL``),
the client address is read through trusted proxies only, searches for one name are limited
from all addresses together, and only the year of birth is ever compared.
"""

from __future__ import annotations

import calendar
import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, RequestFactory, override_settings

from habeas.core.net import client_address
from habeas.oversight.locator import LocatorQuery, locate, locator_throttle

API = "/api/v1/locator"
JOSE = {"name": "jose hernandez", "nationality": "VE"}  # born 1990-05-17 (conftest)


# --- no answer reveals more than the year -------------------------------------------------


@pytest.mark.django_db
def test_no_search_tells_the_month_or_the_day_of_birth(scene: dict[str, Any]) -> None:
    """The reproduction: 12 searches for the month, then 31 for the day. Every answer is now
    the one the year alone gives."""
    by_year = locate(LocatorQuery.build(**JOSE, dob="1990"))
    assert by_year["matches"][0]["status"] == "in_custody"
    assert by_year["matches"][0]["year_of_birth"] == 1990
    for month in range(1, 13):
        assert locate(LocatorQuery.build(**JOSE, dob=f"1990-{month:02d}")) == by_year, month
        for day in range(1, calendar.monthrange(1990, month)[1] + 1, 7 if month != 5 else 1):
            dob = f"1990-{month:02d}-{day:02d}"
            assert locate(LocatorQuery.build(**JOSE, dob=dob)) == by_year, dob
    other_year = locate(LocatorQuery.build(**JOSE, dob="1991-05-17"))
    assert other_year["matches"][0]["status"] == "not_found"


@pytest.mark.django_db
def test_the_api_answers_alike_for_every_day_of_the_year_of_birth(
    scene: dict[str, Any], settings: Any
) -> None:
    settings.LOCATOR_RATE_PER_NAME_PER_HOUR = 1000
    answers = {
        json.dumps(
            Client(REMOTE_ADDR=f"10.9.0.{day}")
            .get(API, {**JOSE, "dob": f"1990-05-{day:02d}"})
            .json(),
            sort_keys=True,
        )
        for day in (1, 16, 17, 18, 31)
    }
    assert len(answers) == 1


# --- throttled per name, from every address -------------------------------------------------


@pytest.mark.django_db
def test_searches_for_one_name_are_limited_from_all_addresses(
    scene: dict[str, Any], settings: Any
) -> None:
    settings.LOCATOR_RATE_PER_NAME_PER_HOUR = 3
    for year, spelling in (
        (1985, "jose hernandez"),
        (1986, "HERNÁNDEZ José"),
        (1987, "José Hernández"),
    ):
        response = Client(REMOTE_ADDR=f"10.8.0.{year % 100}").get(
            API, {"name": spelling, "nationality": "VE", "dob": str(year)}
        )
        assert response.status_code == 200
    refused = Client(REMOTE_ADDR="10.8.1.1").get(API, {**JOSE, "dob": "1990"})
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "throttled"
    assert body["message"] == "too many searches for this person; try again later"
    assert body["details"]["window_seconds"] == 3600
    assert 0 < int(refused["Retry-After"]) <= 3600
    # another name, or the same name of another nationality, is not affected
    other = Client(REMOTE_ADDR="10.8.1.1").get(
        API, {"name": "carlos cruz perez", "nationality": "GT", "dob": "1988"}
    )
    assert other.status_code == 200
    assert other.json()["matches"][0]["status"] == "in_custody"
    page = Client(REMOTE_ADDR="10.8.1.2").get("/locator/", {**JOSE, "dob": "1990"})
    assert page.status_code == 429
    text = page.content.decode()
    assert "Too many searches for this person." in text
    assert "José Alberto" not in text


@pytest.mark.django_db
def test_the_per_name_limit_page_is_in_spanish(scene: dict[str, Any], settings: Any) -> None:
    settings.LOCATOR_RATE_PER_NAME_PER_HOUR = 1
    assert Client().get("/locator/", {**JOSE, "dob": "1990"}).status_code == 200
    client = Client()
    client.cookies["django_language"] = "es"
    page = client.get("/locator/", {**JOSE, "dob": "1990"})
    assert page.status_code == 429
    assert "Demasiadas búsquedas de esta persona." in page.content.decode()


# --- the client address: trusted proxies only ---------------------------------------------


def _request(remote: str, forwarded: str | None = None) -> Any:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        ([], "203.0.113.9", "198.51.100.1", "203.0.113.9"),  # header ignored: no proxy trusted
        (["10.0.0.1"], "203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not from the proxy
        (["10.0.0.1"], "10.0.0.1", "198.51.100.1", "198.51.100.1"),
        (["10.0.0.1"], "10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # spoofed left
        (["10.0.0.0/8"], "10.0.0.1", "198.51.100.1, 10.2.3.4", "198.51.100.1"),  # proxy chain
        (["10.0.0.1"], "10.0.0.1", "", "10.0.0.1"),
        (["10.0.0.1"], "10.0.0.1", "not-an-address", "10.0.0.1"),
        (["10.0.0.1"], "10.0.0.1", "198.51.100.7:4711", "198.51.100.7"),
        (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
        (["10.0.0.1"], "::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),
    ],
)
def test_client_address_reads_forwarded_for_only_from_trusted_proxies(
    proxies: list[str], remote: str, forwarded: str, client: str
) -> None:
    with override_settings(HABEAS_TRUSTED_PROXIES=proxies):
        assert client_address(_request(remote, forwarded)) == client


@pytest.mark.django_db
def test_families_behind_one_trusted_proxy_have_their_own_limits(
    scene: dict[str, Any], settings: Any
) -> None:
    settings.LOCATOR_RATE_PER_MINUTE = 2
    settings.HABEAS_TRUSTED_PROXIES = ["10.0.0.1"]
    params = {**JOSE, "dob": "1990"}

    def get(family: str) -> int:
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=family)
        return int(client.get(API, params).status_code)

    assert [get("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert get("198.51.100.2") == 200  # another family behind the same proxy
    # Writing another address to the left of what the proxy appended does not help.
    assert get("1.2.3.4, 198.51.100.1") == 429


@pytest.mark.django_db
def test_a_bad_trusted_proxy_setting_fails_the_checks(settings: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.HABEAS_TRUSTED_PROXIES = ["10.0.0.300"]
    with pytest.raises(SystemCheckError, match="HABEAS_TRUSTED_PROXIES"):
        call_command("check")


# --- a shared cache: the database by default, Redis when configured ------------------------


@pytest.mark.django_db
def test_the_rate_limit_is_counted_in_the_database_cache_by_default(settings: Any) -> None:
    assert caches["default"].__class__.__name__ == "DatabaseCache"
    settings.LOCATOR_RATE_PER_MINUTE = 2
    assert [locator_throttle("192.0.2.7").allowed for _ in range(3)] == [True, True, False]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM habeas_cache WHERE cache_key LIKE %s", ["%throttle%"])
        row = cursor.fetchone()
    assert row is not None
    assert row[0] >= 2


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


REDIS_URL = "redis://127.0.0.1:6379/0"
needs_redis = pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable on 127.0.0.1:6379")


@needs_redis
def test_the_rate_limit_is_counted_in_redis_when_configured() -> None:
    prefix = f"habeas-test-{uuid.uuid4().hex}"
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=redis_cache, LOCATOR_RATE_PER_MINUTE=2):
        cache = caches["default"]
        assert cache.__class__.__name__ == "RedisCache"
        try:
            outcomes = [locator_throttle("192.0.2.8").allowed for _ in range(3)]
            assert outcomes == [True, True, False]
            client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
            assert client.keys(f"{prefix}:*throttle*")
        finally:
            cache.clear()


#: One of several processes counting searches from one address against the shared cache.
COUNTER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from habeas.oversight.locator import locator_throttle
    allowed = sum(locator_throttle(sys.argv[1]).allowed for _ in range(int(sys.argv[2])))
    print(allowed)
    """
)


def _count_in_processes(env: dict[str, str], address: str, processes: int, each: int) -> int:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTER, address, str(each)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    total = 0
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        total += int(out.strip().splitlines()[-1])
    return total


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "HABEAS_HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'habeas.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "habeas.settings",
        **extra,
    }
    env.pop("HABEAS_TEST_DATABASE_URL", None)
    return env


@pytest.mark.subprocess
@pytest.mark.skipif(
    bool(os.environ.get("HABEAS_TEST_DATABASE_URL")),
    reason="an embedded-SQLite home whatever the suite's database: run by the SQLite suite",
)
def test_workers_share_one_limit_in_the_database_cache(tmp_path: Path) -> None:
    """The reproduction: with per-process counting, 3 workers allowed 3 × the limit. The
    cache table is made by ``habeas init``."""
    env = _env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "habeas", "init"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert _count_in_processes(env, "192.0.2.30", processes=3, each=20) == 30


@pytest.mark.subprocess
@needs_redis
def test_workers_share_one_limit_in_redis(tmp_path: Path) -> None:
    env = _env(tmp_path, HABEAS_CACHE_URL=REDIS_URL)
    address = f"192.0.2.{uuid.uuid4().int % 200 + 1}-{uuid.uuid4().hex[:8]}"
    assert _count_in_processes(env, address, processes=3, each=20) == 30


def test_habeas_cache_url_must_be_redis() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.CACHES"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "habeas.settings",
            "HABEAS_CACHE_URL": "memcached://127.0.0.1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "HABEAS_CACHE_URL must be a redis://" in done.stderr


def _both_limits_in_turn() -> list[tuple[bool, bool | None]]:
    """Five searches from one address for one person, then one from another address, with
    2 searches a minute per address and 3 an hour per person."""
    from habeas.oversight.locator import search_throttles

    query = LocatorQuery.build(**JOSE, dob="1990")
    outcomes = []
    for address in ["192.0.2.20"] * 5 + ["192.0.2.21"] * 2:
        by_client, by_subject = search_throttles(address, query)
        outcomes.append((by_client.allowed, None if by_subject is None else by_subject.allowed))
    return outcomes


#: The address is counted first; the person only while the address is within its limit (a
#: refused address does not use up the person's hourly searches).
BOTH_LIMITS = [
    (True, True),
    (True, True),
    (False, None),
    (False, None),
    (False, None),
    (True, True),
    (True, False),
]


@pytest.mark.django_db
def test_both_limits_of_a_search_in_the_database_cache(settings: Any) -> None:
    settings.LOCATOR_RATE_PER_MINUTE = 2
    settings.LOCATOR_RATE_PER_NAME_PER_HOUR = 3
    assert _both_limits_in_turn() == BOTH_LIMITS


@needs_redis
def test_both_limits_of_a_search_are_one_redis_script_with_the_same_outcomes() -> None:
    prefix = f"habeas-test-{uuid.uuid4().hex}"
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(
        CACHES=redis_cache, LOCATOR_RATE_PER_MINUTE=2, LOCATOR_RATE_PER_NAME_PER_HOUR=3
    ):
        cache = caches["default"]
        try:
            assert _both_limits_in_turn() == BOTH_LIMITS
            client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
            keys = client.keys(f"{prefix}:*throttle*")
            assert len(keys) == 3  # two addresses, one person
            assert all(0 < client.ttl(k) <= 3605 for k in keys)
        finally:
            cache.clear()
