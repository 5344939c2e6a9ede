"""An inspection body with a mandate over TEC, its inspector (the ``users`` fixture's
``inspector``), on top of the API tests' people (tests/api/conftest.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.api.conftest import client_for, scene  # noqa: F401

ARRIVED = dt.datetime(2025, 4, 2, 6, 40, tzinfo=dt.UTC)


@pytest.fixture
def body(scene: dict[str, Any], users: dict[str, Any], actor: Any) -> Any:  # noqa: F811
    from habeas.inspections.services import inspection_body_register, inspector_appoint

    found = inspection_body_register(
        actor=actor,
        name="Mecanismo Nacional de Prevención",
        kind="npm",
        mandate="Unannounced visits to every place of detention (OPCAT arts. 4, 17-23).",
        facility_codes=["TEC"],
    )
    inspector_appoint(actor=actor, body=found, user=users["inspector"])
    return found


@pytest.fixture
def team(users: dict[str, Any]) -> Any:
    from habeas.core.actor import Actor

    return Actor.from_user(users["inspector"])


@pytest.fixture
def gate(users: dict[str, Any]) -> Any:
    from habeas.core.actor import Actor

    return Actor.from_user(users["staff"])


@pytest.fixture
def visit(body: Any, scene: dict[str, Any], team: Any) -> Any:  # noqa: F811
    from habeas.inspections.services import inspection_arrive

    return inspection_arrive(
        actor=team, body=body, facility=scene["tec"], inspectors=["inspector"], arrived_at=ARRIVED
    )
