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
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.schemathesis

EXAMPLES = int(os.environ.get("HABEAS_SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture(scope="session")
def api_schema() -> Any:
    from habeas.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(params=["staff", "anonymous"])
def api_headers(request: pytest.FixtureRequest, scene: dict[str, Any], users: Any) -> Any:
    """Facility staff (TEC) with a bearer token, or no credentials at all."""
    if request.param == "anonymous":
        return {}
    from habeas.accounts.services import token_create
    from habeas.core.actor import Actor

    _, raw = token_create(
        actor=Actor(name="test:setup", role="facility_admin"), user=users["staff"], name="fuzz"
    )
    return {"Authorization": f"Bearer {raw}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_answers_a_server_error(case: Any, api_headers: dict[str, str]) -> None:
    response = case.call(headers=api_headers)
    case.validate_response(response, checks=[not_a_server_error])
