"""A lawyer's visit leaves no content anywhere (Mandela Rule 61(1): without interception or
censorship and in full confidentiality): a marker written into every free-text field offered
with a lawyer's visit — the booking's note in the API and on the contact page, the note when
the visit is recorded as held — is found in no table, no log record and no ledger entry. Only
the visit is."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import connection
from django.test import Client

from tests.contact.conftest import days_ago, next_saturday_9

MARKER = "PRIVILEGED-7f3a9c-legal-advice"


def _tables_holding(marker: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                if any(
                    marker
                    in (
                        v.decode("utf-8", "replace")
                        if isinstance(v, bytes | memoryview)
                        else str(v)
                    )
                    for v in row
                    if v is not None
                ):
                    found.append(table)
                    break
    return found


def test_lawyer_visit_leaves_no_content_in_tables_logs_or_ledger(
    slotted: Any, held: Any, actor: Any, users: dict[str, Any], caplog: Any
) -> None:
    from habeas.contact.models import Visit
    from habeas.contact.services import visit_record_held
    from habeas.ledger.models import LedgerEntry

    caplog.set_level(logging.DEBUG)
    client = Client()
    client.force_login(users["staff"])
    response = client.post(
        "/api/v1/visits/",
        json.dumps({
            "person": str(held.pk), "kind": "lawyer", "visitor_name": "Lic. Ana Torres",
            "relation": "defensora", "id_document": "Carné 123",
            "starts_at": days_ago(0.2).isoformat(), "note": MARKER,
        }),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert MARKER not in response.content.decode()
    page = client.post(
        f"/contact/people/{held.pk}/",
        {
            "form": "book", "kind": "lawyer", "visitor_name": "Lic. Ana Torres",
            "starts_at": days_ago(0.1).strftime("%Y-%m-%d %H:%M"), "note": MARKER,
        },
    )  # fmt: skip
    assert page.status_code == 302, page.content.decode()[:2000]
    visits = list(Visit.objects.filter(kind="lawyer"))
    assert len(visits) == 2
    for visit in visits:
        visit_record_held(actor=actor, visit=visit, at=days_ago(0.05), note=MARKER)
    assert {v.status for v in Visit.objects.filter(kind="lawyer")} == {"took_place"}
    assert _tables_holding(MARKER) == []
    assert all(MARKER not in r.getMessage() for r in caplog.records)
    assert MARKER not in caplog.text
    for canonical in LedgerEntry.objects.values_list("canonical", flat=True):
        assert MARKER not in str(canonical)
    held_entries = LedgerEntry.objects.filter(action="contact.visit_held")
    assert held_entries.count() == 2  # the visit itself is on the ledger


def test_a_family_visit_note_is_kept_as_a_commitment(slotted: Any, held: Any, actor: Any) -> None:
    """The scan above finds what is stored: a family visit's note is kept in its table, and
    on the ledger only as a commitment (personal data)."""
    from habeas.contact.services import visit_book, visitor_register
    from habeas.ledger.models import LedgerEntry

    visitor = visitor_register(actor=actor, person=held, kind="family", name="Rosa")
    at = next_saturday_9(slotted["tec"])
    visit_book(actor=actor, person=held, visitor=visitor, starts_at=at, note=MARKER)
    assert _tables_holding(MARKER) == ["contact_visit"]
    assert all(
        MARKER not in str(c) for c in LedgerEntry.objects.values_list("canonical", flat=True)
    )
