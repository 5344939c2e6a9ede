"""A credit or debit note plus its invoice equals the invoice recomputed from the corrected
history (STANDARDS.md, Billing), for any late release and late admission."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import admit, make_person

UTC = dt.UTC
APRIL = dt.datetime(2025, 4, 1, tzinfo=UTC)


class _Undo(Exception):
    pass


def _days(doc: dict[str, Any]) -> dict[str, int]:
    per: dict[str, int] = {}
    for line in doc["lines"]:
        if line["person"]:
            per[line["person"]] = per.get(line["person"], 0) + int(line["days"])
    return {k: v for k, v in per.items() if v}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    starts=st.lists(st.integers(0, 24 * 50), min_size=1, max_size=3),
    release_after=st.integers(1, 24 * 40),
    late_admission=st.one_of(st.none(), st.integers(24 * 30, 24 * 60)),
)
def test_note_plus_invoice_equals_the_recomputed_invoice(
    world: dict[str, Any],
    actor: Any,
    starts: list[int],
    release_after: int,
    late_admission: int | None,
) -> None:
    from habeas.billing.compute import invoice_document
    from habeas.billing.corrections import correction_document
    from habeas.billing.services import invoice_issue, note_issue
    from habeas.custody.services import custody_release

    try:
        with transaction.atomic():
            people = [make_person(actor) for _ in starts]
            for person, hours in zip(people, starts, strict=True):
                admit(
                    actor, person, world["tec"], world["us"], at=APRIL + dt.timedelta(hours=hours)
                )
            invoice = invoice_issue(actor=actor, agreement=world["us"], period="2025-05")
            first_in = APRIL + dt.timedelta(hours=starts[0])
            custody_release(
                actor=actor,
                person=people[0],
                reason="repatriated",
                at=first_in + dt.timedelta(hours=release_after),
            )
            if late_admission is not None:
                admit(
                    actor,
                    make_person(actor),
                    world["tec"],
                    world["us"],
                    at=APRIL + dt.timedelta(hours=late_admission),
                )
            recomputed = invoice_document(world["us"], "2025-05")
            if correction_document(invoice) is None:
                assert Decimal(recomputed["total"]) == invoice.total
                assert _days(recomputed) == _days(invoice.document)
            else:
                note = note_issue(actor=actor, invoice=invoice)
                assert invoice.total + note.total == Decimal(recomputed["total"])
                both = _days(invoice.document)
                for person, days in _days(note.document).items():
                    both[person] = both.get(person, 0) + days
                assert {k: v for k, v in both.items() if v} == _days(recomputed)
                assert note.kind == ("credit_note" if note.total < 0 else "debit_note")
                assert correction_document(invoice) is None
            raise _Undo
    except _Undo:
        pass
