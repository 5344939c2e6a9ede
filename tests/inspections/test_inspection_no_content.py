"""Acceptance (issue 16): inspectors' interviews leave no content anywhere — not in tables,
logs or the ledger. The interview and visit flow runs through the pages with a marker in
every free-text input those forms take; the marker is then looked for in every column of
every table, in every captured log record and in every ledger payload. Who was interviewed
is never shown to the facility's staff (OPCAT art. 21(1))."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from habeas.inspections.models import Interview
from habeas.ledger.models import LedgerEntry
from tests.inspections.conftest import ARRIVED

pytestmark = pytest.mark.django_db

MARKER = "ZQX-interview-said-7731"


def _every_table_text() -> str:
    """Every value of every column of every table (all apps, Django's own included)."""
    quote = connection.ops.quote_name
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {quote(table)}")
            for row in cursor.fetchall():
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_interview_flow_leaves_no_content_anywhere(
    body: Any, scene: dict[str, Any], users: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    inspector, staff = Client(), Client()
    inspector.force_login(users["inspector"])
    staff.force_login(users["staff"])
    when = ARRIVED.strftime("%Y-%m-%dT%H:%M")
    # the arrival, with the marker in every field the form takes
    r = inspector.post(
        "/inspections/",
        {"facility": "TEC", "arrived_at": when, "inspectors": "inspector", "announced": MARKER,
         "note": MARKER, "content": MARKER},
    )  # fmt: skip
    assert r.status_code == 302, r.content
    pk = int(r["Location"].rstrip("/").rsplit("/", 1)[1])
    r = staff.post(f"/inspections/{pk}/", {"form": "gate", "decision": "admit", "at": when})
    assert r.status_code == 302
    person = scene["people"]["gt_tec"]
    later = (ARRIVED + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    r = inspector.post(
        f"/inspections/{pk}/",
        {"form": "interview", "kind": "prisoner", "who": str(person.pk), "at": later,
         "content": MARKER, "notes": MARKER, "text": MARKER, "summary": MARKER},
    )  # fmt: skip
    assert r.status_code == 302, r.content
    # an attempt with the marker where the interviewee goes is refused, leaving nothing
    r = inspector.post(
        f"/inspections/{pk}/", {"form": "interview", "kind": "staff", "who": MARKER, "at": later}
    )
    assert r.status_code == 400
    r = inspector.post(
        f"/inspections/{pk}/",
        {"form": "interview", "kind": "prisoner", "who": MARKER, "at": later},
    )
    assert r.status_code == 404
    r = inspector.post(
        f"/inspections/{pk}/",
        {"form": "interview", "kind": "staff", "who": "staff", "at": later, "content": MARKER},
    )
    assert r.status_code == 302
    assert Interview.objects.count() == 2

    assert MARKER not in _every_table_text()
    assert not [rec for rec in caplog.records if MARKER in rec.getMessage()]
    assert not [e.index for e in LedgerEntry.objects.all() if MARKER in str(e.document)]

    # who was interviewed: the body and oversight see it; the facility's staff never
    name = "Carla"
    oversight = Client()
    oversight.force_login(users["oversight"])
    assert name in inspector.get(f"/inspections/{pk}/").content.decode()
    assert name in oversight.get(f"/inspections/{pk}/").content.decode()
    for who in ("staff", "admin"):
        c = Client()
        c.force_login(users[who])
        page = c.get(f"/inspections/{pk}/")
        assert page.status_code == 200
        assert name not in page.content.decode()
        assert "Private interviews" not in page.content.decode()
        api = c.get(f"/api/v1/inspections/{pk}/")
        assert api.status_code == 200
        assert api.json()["interviews"] is None
