"""List endpoints run a bounded number of queries, whatever the number of rows (no N+1;
NetBox's query-count baselines)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import admit, make_person

LISTS = [
    "/api/v1/persons/",
    "/api/v1/persons/?q=Hern",
    "/api/v1/custody-episodes/",
    "/api/v1/custody-episodes/?open=true",
    "/api/v1/facilities/",
    "/api/v1/agreements/",
]

#: Session + user lookups (2), the scoped count, the page, one prefetch: with room to spare.
MAX_QUERIES = 8


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("user", ["staff", "liaison_us", "oversight"])
def test_list_queries_do_not_grow_with_rows(
    world: dict[str, Any],
    actor: Any,
    client_for: Callable[[str], Any],
    django_assert_max_num_queries: Any,
    url: str,
    user: str,
) -> None:
    client = client_for(user)
    admit(actor, make_person(actor), world["tec"], world["us"])
    few = _queries(client, url)
    for _ in range(6):
        admit(actor, make_person(actor), world["tec"], world["us"])
        admit(actor, make_person(actor), world["oth"], world["gt"])
    many = _queries(client, url)
    assert many == few, f"{url}: {few} queries with 1 person, {many} with 13"
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url)


def test_token_auth_query_budget(
    world: dict[str, Any], users: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    from django.test import Client

    from habeas.accounts.services import token_create
    from habeas.core.actor import Actor

    _, raw = token_create(actor=Actor(name="t"), user=users["oversight"], name="q")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.get("/api/v1/persons/")  # first use records last_used_at
    with django_assert_max_num_queries(4):  # token+user, count, page, prefetch
        assert client.get("/api/v1/persons/").status_code == 200
