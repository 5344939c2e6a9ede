"""ONE error document for every refusal: ``{"code", "message", "details"}``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from habeas.core.errors import ApplicationError, Conflict, Forbidden, NotFound, ValidationFailed


def test_400_names_the_fields_at_fault(world: dict[str, Any], client_for: Any) -> None:
    client = client_for("oversight")
    response = client.get("/api/v1/persons/", {"limit": 0, "offset": -1})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "the request is not valid"
    assert set(body["details"]) == {"limit", "offset"}
    assert all(isinstance(m, list) and m for m in body["details"].values())
    response = client.get("/api/v1/custody-episodes/", {"open": "perhaps"})
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"open"}


def test_404_for_missing_and_malformed_ids_is_the_same(
    world: dict[str, Any], client_for: Any
) -> None:
    client = client_for("oversight")
    expected = {"code": "not_found", "message": "person not found", "details": {}}
    for path in (
        "/api/v1/persons/424242/",
        "/api/v1/persons/x1/",
        "/api/v1/persons/0/",
        "/api/v1/persons/-3/",
    ):
        assert client.get(path).json() == expected
    huge = client.get("/api/v1/persons/" + "9" * 40 + "/")
    assert huge.status_code == 404
    assert huge.json() == expected
    huge_episode = client.get("/api/v1/custody-episodes/" + "9" * 40 + "/")
    assert huge_episode.json() == {
        "code": "not_found",
        "message": "custody episode not found",
        "details": {},
    }
    assert client.get("/api/v1/agreements/NOPE/").json()["code"] == "not_found"


def test_401_and_403(world: dict[str, Any], client_for: Any) -> None:
    anonymous = client_for("anonymous").get("/api/v1/persons/")
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "code": "unauthenticated",
        "message": "authentication required",
        "details": {},
    }
    norole = client_for("norole").get("/api/v1/persons/")
    assert norole.status_code == 403
    body = norole.json()
    assert body["code"] == "forbidden"
    assert body["details"] == {}
    assert body["message"]


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (ValidationFailed("bad input", details={"field": "x"}), 400, "invalid"),
        (Forbidden("no"), 403, "forbidden"),
        (NotFound("gone"), 404, "not_found"),
        (Conflict("capacity exceeded", details={"cell": "M1-01"}), 409, "conflict"),
        (ApplicationError("odd", code="unprocessable_manifest"), 400, "unprocessable_manifest"),
    ],
)
def test_service_refusals_map_to_their_status(
    exc: ApplicationError, status: int, code: str
) -> None:
    """What a write endpoint returns when its service refuses (no database needed)."""
    import json

    from habeas.api import api

    response = api.on_exception(RequestFactory().post("/api/v1/x"), exc)
    assert response.status_code == status
    assert json.loads(response.content) == {
        "code": code,
        "message": exc.message,
        "details": exc.details,
    }


def test_ninja_http_errors_use_the_same_document() -> None:
    import json

    from ninja.errors import HttpError

    from habeas.api import api

    response = api.on_exception(RequestFactory().get("/api/v1/x"), HttpError(422, "nope"))
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "code": "unprocessable",
        "message": "nope",
        "details": {},
    }


def test_http404_uses_the_same_document() -> None:
    import json

    from django.http import Http404

    from habeas.api import api

    response = api.on_exception(RequestFactory().get("/api/v1/x"), Http404("secret detail"))
    assert response.status_code == 404
    assert json.loads(response.content) == {
        "code": "not_found",
        "message": "not found",
        "details": {},
    }
