"""The OpenAPI document (INTERFACES.md: /api/v1/openapi.json and /api/v1/docs)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

PATHS = {
    "/api/v1/persons/",
    "/api/v1/persons/{person_id}/",
    "/api/v1/custody-episodes/",
    "/api/v1/custody-episodes/{episode_id}/",
    "/api/v1/facilities/",
    "/api/v1/facilities/{code}/",
    "/api/v1/agreements/",
    "/api/v1/agreements/{code}/",
    "/api/v1/ledger/size",
    "/api/v1/ledger/tree-head",
    "/api/v1/ledger/public-key",
    "/api/v1/ledger/checkpoint",
    "/api/v1/ledger/proofs/inclusion",
    "/api/v1/ledger/proofs/consistency",
    "/api/v1/ledger/entries/{index}",
    "/api/v1/ledger/export",
}

#: Public on purpose: the ledger's hashes, proofs and signed heads (no personal data).
PUBLIC = {
    p for p in PATHS if p.startswith("/api/v1/ledger/") and "entries" not in p and "export" not in p
} | {
    "/api/v1/locator",  # the public locator (families, lawyers, consulates)
    "/api/v1/statistics",  # public statistics (Mandela Rule 10)
}


@pytest.fixture
def schema(db: Any) -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    value: dict[str, Any] = response.json()
    return value


def test_openapi_lists_the_paths(schema: dict[str, Any]) -> None:
    assert schema["info"]["title"] == "Habeas API"
    assert schema["info"]["version"] == "1"
    assert set(schema["paths"]) >= PATHS


#: Paths whose POST also takes a facility's sensor token (conditions.sensors).
SENSOR_PATHS = {"/api/v1/readings"}


def test_openapi_documents_the_error_document(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"code", "message", "details"}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if path in PUBLIC:
                assert "security" not in operation, path
                continue
            for status in ("400", "401", "403", "404"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
            expected = [{"TokenAuth": []}, {"SessionAuth": []}]
            if path in SENSOR_PATHS and method == "post":
                # a facility's sensor token may post its readings (and nothing else)
                expected = [{"SensorTokenAuth": []}, *expected]
            assert operation["security"] == expected, (path, method)


def test_openapi_declares_both_auth_schemes(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"]["scheme"] == "bearer"
    assert schemes["SessionAuth"]["in"] == "cookie"
    assert schemes["SensorTokenAuth"]["scheme"] == "bearer"


def test_money_and_ids_are_strings(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert components["AgreementOut"]["properties"]["per_person_day"]["type"] == "string"
    assert components["PersonOut"]["properties"]["id"]["type"] == "string"
    assert components["EpisodeOut"]["properties"]["admitted_at"]["format"] == "date-time"


def test_docs_page(db: Any) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_the_ledger_export_is_documented_as_json_lines(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/v1/ledger/export"]["get"]
    assert "application/jsonl" in operation["responses"]["200"]["content"]
    assert [p["name"] for p in operation["parameters"]] == ["from"]
    assert "habeas ledger witness" in operation["description"]
