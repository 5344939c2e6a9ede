"""Schemathesis against the OpenAPI schema at /api/v1/ (security review, item 4): every
operation, with data generated from its schema and then mutated (negative cases), answered
by the real application in process, as facility staff with a bearer token and anonymously.
The one check that fails the run: no answer is a server error (5xx).

Bounded: ``HABEAS_SCHEMATHESIS_EXAMPLES`` examples per operation and user (default 8, so the
ordinary suite stays quick; CI's own step sets more). Nothing here is stateful: the API's
documents carry no OpenAPI links to chain, and the writes it would chain (import, accept,
admit) are covered by the hostile-input corpus and the flow tests.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.schemathesis

EXAMPLES = int(os.environ.get("HABEAS_SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture
def api_schema(db: Any) -> Any:
    """The schema, served by the application itself. Like Django's test client, requests do
    not close the database connection when they finish: the test's transaction (and an
    in-memory SQLite database) must outlive them."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from habeas.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(scene: dict[str, Any], users: Any) -> str:
    """A bearer token of facility staff (TEC), with a population to find (``scene``)."""
    from habeas.accounts.services import token_create
    from habeas.core.actor import Actor

    _, raw = token_create(
        actor=Actor(name="test:setup", role="facility_admin"), user=users["staff"], name="fuzz"
    )
    return raw


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def server_errors(api_schema: Any, headers: dict[str, str]) -> list[str]:
    """Run every operation with generated requests, valid ones and then mutated ones; the
    operations that answered a 5xx, each with the failing request as curl."""
    found = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to mutate: the operation takes no parameters
            except Exception as exc:  # the failing request, shrunk, as the check reports it
                found.append(f"{operation.label} ({mode.value}): {exc}")
    return found


def test_api_never_answers_a_server_error_to_staff(api_schema: Any, staff_token: str) -> None:
    errors = server_errors(api_schema, {"Authorization": f"Bearer {staff_token}"})
    assert not errors, "\n\n".join(errors)


def test_api_never_answers_a_server_error_to_anyone(api_schema: Any, scene: dict[str, Any]) -> None:
    errors = server_errors(api_schema, {})
    assert not errors, "\n\n".join(errors)
