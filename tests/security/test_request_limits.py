"""Request bodies are refused by their declared size before they are read (security review,
item 8: 300 MB was spooled to disk before the refusal), and every API error is the one error
document, never Django's HTML (INTERFACES.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client


def test_an_oversized_upload_is_refused_before_it_is_parsed_or_spooled(
    world: dict[str, Any], users: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HABEAS_MAX_UPLOAD_BYTES = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was parsed (and a large file spooled to disk)")

    monkeypatch.setattr(MultiPartParser, "parse", never)
    client = Client()
    client.force_login(users["staff"])
    response = client.post(
        "/api/v1/manifests/",
        {"file": SimpleUploadedFile("m.csv", b"x" * 20_000), "agreement": "US-SV"},
    )
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert body["details"]["limit_bytes"] == 10_000
    assert body["details"]["content_length"] > 20_000


def test_an_upload_below_the_limit_is_read(
    world: dict[str, Any], users: dict[str, Any], settings: Any
) -> None:
    settings.HABEAS_MAX_UPLOAD_BYTES = 10_000
    client = Client()
    client.force_login(users["staff"])
    response = client.post(
        "/api/v1/manifests/",
        {"file": SimpleUploadedFile("m.csv", b"not,a,manifest\n"), "agreement": "US-SV"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "manifest_refused"


def test_an_oversized_web_upload_is_refused_too(
    world: dict[str, Any], users: dict[str, Any], settings: Any
) -> None:
    settings.HABEAS_MAX_UPLOAD_BYTES = 10_000
    client = Client()
    client.force_login(users["staff"])
    response = client.post("/transfers/", {"file": SimpleUploadedFile("m.csv", b"x" * 20_000)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"given_names": ', 400, "invalid"),
        (b"\xff\xfe", 400, "invalid"),
        (b'{"given_names": "x' + b"y" * 3_000_000 + b'"}', 413, "too_large"),
    ],
)
def test_malformed_and_oversized_json_get_the_error_document(
    world: dict[str, Any], users: dict[str, Any], body: bytes, status: int, code: str
) -> None:
    client = Client()
    client.force_login(users["staff"])
    response = client.post("/api/v1/matching/", body, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    document = response.json()
    assert set(document) == {"code", "message", "details"}
    assert document["code"] == code


def test_django_refusals_under_api_are_the_error_document(users: dict[str, Any]) -> None:
    """A Host that is not allowed is refused by Django before the API runs (400)."""
    response = Client().get("/api/v1/persons/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    page = Client().get("/people/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert not page["Content-Type"].startswith("application/json")


def test_a_value_the_database_refuses_is_a_400_document() -> None:
    """The safety net behind the schemas: a DataError (too long for its column, out of range)
    is the error document with 400, never a 500."""
    import json

    from django.db import DataError
    from django.test import RequestFactory

    from habeas.api import api

    response = api.on_exception(RequestFactory().post("/api/v1/x"), DataError("too long"))
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "code": "invalid",
        "message": "a value is too long or out of range",
        "details": {},
    }
