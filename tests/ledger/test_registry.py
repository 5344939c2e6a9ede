"""The event registry is complete (ARCHITECTURE.md, the one rule, item 6): every action a
service appends is declared, with a label and a replay, and every payload field declared
personal is one a real payload holds, on the ledger only as a commitment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from habeas.core.canonical import loads
from habeas.core.events import REGISTRY
from habeas.ledger.privacy import is_commitment
from tests.ledger.test_tamper_matrix import _demo_once, demo  # noqa: F401  (the fixtures)

SRC = Path(__file__).resolve().parents[2] / "src" / "habeas"

#: ``action="custody.admitted"``, ``Event(action=\n "…")``, ``self.record("…", …)``.
LITERAL = re.compile(r"""(?:action=|\.record\()\s*["']([a-z_]+\.[a-z_]+)["']""")
#: The setup document's ``upsert(..., app="facilities", noun="cell", ...)``: ``…_declared``
#: and ``…_amended``.
UPSERT = re.compile(r"""app=["']([a-z_]+)["'],\s*noun=["']([a-z_]+)["']""")


def appended_actions() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(LITERAL.findall(text))
        for app, noun in UPSERT.findall(text):
            found.update({f"{app}.{noun}_declared", f"{app}.{noun}_amended"})
    return found


def test_the_scan_finds_the_actions_it_should() -> None:
    found = appended_actions()
    assert {"custody.admitted", "facilities.cell_declared", "placement.moved"} <= found
    assert len(found) >= 30


def test_every_appended_action_is_declared_with_a_label_and_a_replay() -> None:
    problems = []
    for name in sorted(appended_actions()):
        declared = REGISTRY.actions.get(name)
        if declared is None:
            problems.append(f"{name}: not declared")
            continue
        if declared.label is None or not str(declared.label).strip():
            problems.append(f"{name}: no label")
        if declared.replay is None:
            problems.append(f"{name}: no replay")
    assert problems == []


def _at(node: Any, parts: list[str]) -> Iterator[Any]:
    """The values at a personal path (``*``: every element of a list)."""
    if not parts:
        yield node
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, list):
            for item in node:
                yield from _at(item, rest)
    elif isinstance(node, dict) and head in node:
        yield from _at(node[head], rest)


def _beyond_the_demo() -> None:
    """What neither the demo nor the tamper matrix's scenario does: a token and a sensor token
    revoked, a further identifier."""
    from habeas.accounts.models import APIToken
    from habeas.accounts.services import token_revoke
    from habeas.conditions.readings_models import SensorToken
    from habeas.conditions.sensors import sensor_token_revoke
    from habeas.core.actor import Actor
    from habeas.people.models import Person
    from habeas.people.services import Identifier, person_identifiers_add

    admin = Actor(name="test:director", role="facility_admin")
    token = APIToken.objects.order_by("pk").first()
    assert token is not None
    token_revoke(actor=admin, token=token)
    sensor = SensorToken.objects.order_by("pk").first()
    assert sensor is not None
    sensor_token_revoke(actor=admin, token=sensor)
    person = Person.objects.order_by("pk").first()
    assert person is not None
    person_identifiers_add(
        actor=admin, identifiers=[(person.pk, Identifier(authority="XX", value="REG-1"))]
    )


@pytest.mark.django_db
def test_every_personal_path_holds_a_commitment_in_a_real_payload(demo: None) -> None:  # noqa: F811
    from habeas.ledger.models import LedgerEntry

    _beyond_the_demo()

    seen: set[tuple[str, str]] = set()
    clear = []
    for action, canonical in LedgerEntry.objects.order_by("index").values_list(
        "action", "canonical"
    ):
        declared = REGISTRY.actions.get(action)
        if declared is None:
            continue
        payload = loads(canonical)["payload"]
        for path in declared.personal:
            for value in _at(payload, path.split(".")):
                seen.add((action, path))
                if not is_commitment(value):
                    clear.append(f"{action} {path}: {value!r}")
    assert clear == [], "personal values in clear on the ledger"
    missing = sorted(
        f"{a.name} {p}" for a in REGISTRY.actions.values() for p in a.personal
        if (a.name, p) not in seen
    )  # fmt: skip
    assert missing == [], "declared personal paths no payload of the demo holds"


# --- payload schemas (Action.schema) -------------------------------------------------------


def test_every_declared_action_has_a_payload_schema() -> None:
    missing = sorted(a.name for a in REGISTRY.actions.values() if a.schema is None)
    assert missing == []
    assert len(REGISTRY.actions) >= 30


@pytest.fixture
def appended(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every event appended from now on, with its payload as the service built it (before
    personal values are replaced by commitments)."""
    from habeas.core import events

    seen: list[tuple[str, dict[str, Any]]] = []
    dispatch = events.dispatch

    def recording(batch: Any) -> None:
        seen.extend((e.action, e.payload) for e in batch)
        dispatch(batch)

    monkeypatch.setattr(events, "dispatch", recording)
    return seen


def _schema_problems(payloads: list[tuple[str, dict[str, Any]]]) -> list[str]:
    from pydantic import ValidationError

    problems = []
    for i, (action, payload) in enumerate(payloads):
        declared = REGISTRY.actions.get(action)
        if declared is None or declared.schema is None:
            problems.append(f"#{i} {action}: no schema declared")
            continue
        try:
            declared.schema.model_validate(payload)
        except ValidationError as exc:
            problems.append(f"#{i} {action}: {exc}")
    return problems


@pytest.mark.django_db
def test_ledger_actions_lists_every_action_with_its_schema() -> None:
    import json

    from tests.conftest import run_cli

    code, out, err = run_cli("ledger", "actions", "--json")
    assert code == 0, err
    actions = {a["name"]: a for a in json.loads(out)["actions"]}
    assert set(actions) == set(REGISTRY.actions)
    admitted = actions["custody.admitted"]
    assert admitted["label"]
    assert admitted["personal"] == ["legal_bases.*.offence", "record.commitment_reason"]
    assert admitted["schema"]["title"] == "AdmittedPayload"
    assert "episode" in admitted["schema"]["properties"]

    code, out, err = run_cli("ledger", "actions")
    assert code == 0, err
    assert "custody.admitted" in out
    assert "legal_bases.*.offence" in out
