"""No personal data in clear on the ledger (ARCHITECTURE.md, "Personal data and the ledger"):
after the demo — manifests, admissions with Rule 7 records and relatives' contacts,
notifications, releases, absences — no entry holds a name, date of birth, identifier, phone,
e-mail, injury or complaint text of anyone in the tables."""

from __future__ import annotations

from typing import Any

import pytest

from habeas.oversight.personal_scan import scan
from habeas.transfers.models import AdmissionRecord


@pytest.mark.django_db
def test_the_demo_ledger_holds_no_personal_data_in_clear(db: Any) -> None:
    from habeas.web.demo import load_demo

    load_demo(scale="small")
    assert AdmissionRecord.objects.exclude(contact_phone="").exists()  # there is something to find
    searched, read, findings = scan()
    assert searched > 500
    assert read > 1000
    assert findings == []


@pytest.mark.django_db
def test_the_scan_finds_a_name_written_in_clear(actor: Any, world: Any) -> None:
    """The scan itself works: an entry appended with a name in clear is found."""
    from django.db import transaction

    from habeas.ledger.services import ledger_append
    from tests.conftest import make_person

    person = make_person(actor)
    with transaction.atomic():
        ledger_append(
            actor=actor,
            action="test.leaked",
            subject=f"person:{person.pk}",
            payload={"name": f"{person.given_names} {person.first_surname}"},
        )
    _, _, findings = scan()
    assert [f.kind for f in findings] == ["name"]
