"""Visits (Mandela Rules 43(3), 58, 61; VCCR art. 36(1)(c)): the slots of the setup file,
the lawyer's visit without delay, refusals with a reason of the fixed list, and no
restriction of family contact as a punishment."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest

from habeas.core.errors import Conflict, ValidationFailed
from tests.contact.conftest import SLOTTED_SETUP, days_ago, next_saturday_9


def _visitor(actor: Any, person: Any, kind: str = "family", **kw: Any) -> Any:
    from habeas.contact.services import visitor_register

    return visitor_register(
        actor=actor, person=person, kind=kind, name=kw.pop("name", "María López"),
        relation=kw.pop("relation", "madre"), id_document="DUI 0123", **kw,
    )  # fmt: skip


def _book(actor: Any, person: Any, at: dt.datetime, kind: str = "family", **kw: Any) -> Any:
    from habeas.contact.services import visit_book

    visitor = _visitor(actor, person, kind, **kw)
    return visit_book(actor=actor, person=person, visitor=visitor, starts_at=at)


def test_setup_slots_are_stored_and_applying_again_changes_nothing(
    slotted: Any, actor: Any
) -> None:
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup
    from habeas.ledger.services import ledger_size

    assert slotted["tec"].visiting_slots[0] == {
        "day": "wednesday", "start": "14:00", "end": "16:00", "capacity": 20,
    }  # fmt: skip
    assert slotted["tec"].visiting_translations == {"en": "Weekends", "es": "Fines de semana"}
    size = ledger_size()
    setup_apply(actor=actor, document=parse_setup(tomllib.loads(SLOTTED_SETUP), name="s.toml"))
    assert ledger_size() == size


def test_setup_refuses_a_slot_that_ends_before_it_starts() -> None:
    from habeas.facilities.setup_schema import parse_setup

    bad = SLOTTED_SETUP.replace('end = "12:00"', 'end = "08:00"')
    with pytest.raises(ValidationFailed) as info:
        parse_setup(tomllib.loads(bad), name="s.toml")
    (problem,) = info.value.details.values()
    assert "TEC" in problem
    assert "visiting_slots" in problem
    assert "end 08:00:00 is not after start" in problem


def test_family_visit_is_booked_in_a_slot_until_it_is_full(
    slotted: Any, held: Any, actor: Any
) -> None:
    at = next_saturday_9(slotted["tec"])
    _book(actor, held, at)
    _book(actor, held, at, name="Rosa López")
    with pytest.raises(Conflict, match="is full"):
        _book(actor, held, at, name="Ana López")


def test_family_visit_outside_the_slots_is_refused(slotted: Any, held: Any, actor: Any) -> None:
    with pytest.raises(ValidationFailed, match="not the start of a visiting slot"):
        _book(actor, held, next_saturday_9(slotted["tec"]) + dt.timedelta(hours=1))


def test_lawyer_visit_is_granted_without_delay_beyond_the_slots(
    slotted: Any, held: Any, actor: Any
) -> None:
    """Rule 61(1): a full slot or a time outside the slots does not hold a lawyer back."""
    at = next_saturday_9(slotted["tec"])
    _book(actor, held, at)
    _book(actor, held, at, name="Rosa López")
    visit = _book(actor, held, at, kind="lawyer", name="Lic. Ana Torres")
    assert visit.status == "booked"
    odd = _book(actor, held, days_ago(-0.1), kind="lawyer", name="Lic. Ana Torres")
    assert odd.kind == "lawyer"


def test_consular_visitor_names_the_consulate(slotted: Any, held: Any, actor: Any) -> None:
    with pytest.raises(ValidationFailed, match="consulate's country"):
        _visitor(actor, held, "consular", name="Cónsul Pedro")
    visitor = _visitor(actor, held, "consular", name="Cónsul Pedro", country="ve")
    assert visitor.country == "VE"


def test_refusal_needs_a_reason_of_the_list_and_goes_on_the_ledger(
    slotted: Any, held: Any, actor: Any
) -> None:
    from habeas.contact.services import visit_refuse
    from habeas.ledger.models import LedgerEntry

    visit = _book(actor, held, next_saturday_9(slotted["tec"]))
    with pytest.raises(ValidationFailed, match="is not a reason"):
        visit_refuse(actor=actor, visit=visit, reason="because")
    visit_refuse(actor=actor, visit=visit, reason="visitor_no_identity")
    visit.refresh_from_db()
    assert (visit.status, visit.reason) == ("refused", "visitor_no_identity")
    entry = LedgerEntry.objects.filter(action="contact.visit_refused").get()
    assert '"reason":"visitor_no_identity"' in str(entry.canonical)


def test_family_visit_refused_as_a_punishment_is_refused(
    slotted: Any, held: Any, actor: Any
) -> None:
    """Mandela Rule 43(3): disciplinary sanctions shall not include the prohibition of
    family contact."""
    from habeas.contact.services import visit_refuse

    visit = _book(actor, held, next_saturday_9(slotted["tec"]))
    for reason in ("disciplinary", "punishment"):
        with pytest.raises(ValidationFailed, match=r"Mandela Rule 43\(3\)"):
            visit_refuse(actor=actor, visit=visit, reason=reason)
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_family_contact_restricted_as_a_punishment_is_refused(
    slotted: Any, held: Any, actor: Any
) -> None:
    from habeas.contact.models import ContactRestriction
    from habeas.contact.services import contact_restrict

    with pytest.raises(ValidationFailed, match=r"disciplinary sanction \(Mandela Rule 43\(3\)\)"):
        contact_restrict(
            actor=actor, person=held, means="visits", reason="disciplinary",
            starts_at=days_ago(0), ends_at=days_ago(-3),
        )  # fmt: skip
    assert not ContactRestriction.objects.exists()


def test_security_restriction_is_limited_in_time(slotted: Any, held: Any, actor: Any) -> None:
    from habeas.contact.services import contact_restrict

    with pytest.raises(ValidationFailed, match="at most 14 days"):
        contact_restrict(
            actor=actor, person=held, means="visits", reason="security",
            starts_at=days_ago(0), ends_at=days_ago(-15),
        )  # fmt: skip


def test_security_restriction_stops_family_visits_not_lawyers(
    slotted: Any, held: Any, actor: Any
) -> None:
    from habeas.contact.services import contact_restrict, contact_restriction_lift

    at = next_saturday_9(slotted["tec"])
    restriction = contact_restrict(
        actor=actor, person=held, means="visits", reason="security",
        starts_at=days_ago(0.01), ends_at=at + dt.timedelta(hours=1),
    )  # fmt: skip
    with pytest.raises(Conflict, match=r"restricted for security"):
        _book(actor, held, at)
    assert _book(actor, held, at, kind="lawyer").status == "booked"
    contact_restriction_lift(actor=actor, restriction=restriction)
    assert _book(actor, held, at).status == "booked"


def test_public_request_is_confirmed_then_held(slotted: Any, held: Any, actor: Any) -> None:
    from habeas.contact.models import LastContact
    from habeas.contact.services import visit_confirm, visit_record_held, visit_request_public

    visit = visit_request_public(
        actor=actor, person=held, name="Rosa", relation="hermana", id_document="DUI 9",
        starts_at=next_saturday_9(slotted["tec"]),
    )  # fmt: skip
    assert (visit.status, visit.source) == ("requested", "public")
    visit = visit_confirm(actor=actor, visit=visit)
    with pytest.raises(Conflict, match="only a requested visit"):
        visit_confirm(actor=actor, visit=visit)
    visit_record_held(actor=actor, visit=visit, at=days_ago(0.01))
    assert LastContact.objects.get(person=held).last_contact_at is not None


def test_contacts_log_date_kind_and_counterpart(slotted: Any, held: Any, actor: Any) -> None:
    from habeas.contact.models import Contact, LastContact
    from habeas.contact.services import contact_log

    at = days_ago(2)
    contact_log(
        actor=actor, person=held, kind="phone_call", counterpart_kind="consular",
        counterpart="Consulado de Venezuela", occurred_at=at,
    )  # fmt: skip
    assert {f.name for f in Contact._meta.get_fields()} >= {"kind", "counterpart", "occurred_at"}
    assert not {"content", "text", "body", "summary"} & {f.name for f in Contact._meta.get_fields()}
    last = LastContact.objects.get(person=held)
    assert last.last_contact_at == at == last.last_consular_at
    with pytest.raises(ValidationFailed, match="in the future"):
        contact_log(
            actor=actor, person=held, kind="letter_sent", counterpart_kind="family",
            occurred_at=days_ago(-1),
        )  # fmt: skip


def test_last_contact_is_derived_and_rebuilt_from_visits_and_contacts(
    slotted: Any, held: Any, actor: Any
) -> None:
    from habeas.contact.models import LastContact
    from habeas.contact.services import contact_log, last_contact_rebuild
    from habeas.core.events import REGISTRY

    assert "contact.LastContact" in REGISTRY.derived
    at = days_ago(3)
    contact_log(
        actor=actor, person=held, kind="letter_received", counterpart_kind="family", occurred_at=at
    )
    assert last_contact_rebuild() == 1
    assert LastContact.objects.get(person=held).last_contact_at == at
