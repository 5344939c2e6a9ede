"""Outside contact in the demo (issue: visits, lawyers, consuls, calls and letters): a week of
family visits in the facility's slots with one refused for its reason and one cancelled, the
coming weekend's bookings and two public requests to confirm, a lawyer's visit and a consular
visit, calls and letters for most people in the last weeks, and one person with no contact for
45 days whose ``no_contact`` alarm is open (and one whose consul asked to visit ten days ago
and has not been received)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from habeas.contact.choices import VisitKind
from habeas.contact.schedule import dated_slots
from habeas.contact.services import (
    contact_log,
    contact_log_many,
    contact_restrict,
    contact_restriction_lift,
    visit_book,
    visit_cancel,
    visit_record_held,
    visit_refuse,
    visit_request_public,
    visitor_register,
)
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility

GIVEN = ["María", "Rosa", "Ana", "Carmen", "José", "Luis", "Gloria", "Marta", "Elena", "Jorge"]
SURNAMES = ["Hernández", "Martínez", "López", "Ramírez", "Flores", "Rivas", "Pérez", "Castillo"]
RELATIONS = ["madre", "hermana", "esposa", "hijo", "padre", "prima", "tío", "amiga"]
#: Share of the people with a second call or letter in the last 25 days.
RECENT_SHARE = 0.6


def _name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"


def _document(rng: random.Random) -> str:
    return f"DUI {rng.randrange(10_000_000, 99_999_999)}-{rng.randrange(10)}"


def load_demo_contact(*, actor: Actor) -> dict[str, Any]:
    rng = random.Random(58)
    facility = Facility.objects.get(code="TEC")
    current = now()
    episodes = list(
        CustodyEpisode.objects.open()
        .filter(facility=facility)
        .select_related("person")
        .order_by("pk")
    )
    long_held = [ep for ep in episodes if ep.admitted_at < current - dt.timedelta(days=50)]
    if len(long_held) < 20:
        return {}
    cut_off, consul_waiting, lawyer_client, consular_client = long_held[:4]
    rest = [ep for ep in episodes if ep.pk != cut_off.pk]
    # Calls and letters: everyone else heard from someone in the last 25 days (most more than
    # once); a foreign national's consulate wrote soon after admission (VCCR art. 36(1)(a)).
    rows: list[dict[str, Any]] = []
    for ep in rest:
        for _n in range(1 + (rng.random() < RECENT_SHARE)):
            rows.append(
                {
                    "person_id": ep.person_id,
                    "facility_id": facility.pk,
                    "kind": rng.choice(
                        ["phone_call", "letter_received", "letter_sent", "video_call"]
                    ),
                    "counterpart_kind": "family",
                    "counterpart": _name(rng),
                    "occurred_at": current - dt.timedelta(days=rng.uniform(1, 25)),
                }
            )
        if any(n != "SV" for n in ep.person.nationalities or []):
            rows.append(
                {
                    "person_id": ep.person_id,
                    "facility_id": facility.pk,
                    "kind": "letter_received",
                    "counterpart_kind": "consular",
                    "counterpart": "",
                    "occurred_at": min(
                        ep.admitted_at + dt.timedelta(days=rng.uniform(1, 3)), current
                    ),
                }
            )
    logged = contact_log_many(actor=actor, rows=rows)
    # The person cut off: one letter 45 days ago, nothing since (A8.1 open).
    contact_log(
        actor=actor,
        person=cut_off.person,
        kind="letter_received",
        counterpart_kind="family",
        counterpart=_name(rng),
        occurred_at=current - dt.timedelta(days=45),
    )
    # Family visits of one person restricted for three days after contraband was found at a
    # visit (security, limited in time: Mandela Rule 43(3)), then lifted early.
    restricted = contact_restrict(
        actor=actor,
        person=rest[5].person,
        means="visits",
        reason="security",
        starts_at=current - dt.timedelta(days=20),
        ends_at=current - dt.timedelta(days=17),
        note="Objetos prohibidos hallados en una visita; revisión de seguridad",
    )
    contact_restriction_lift(
        actor=actor, restriction=restricted, at=current - dt.timedelta(days=18)
    )
    # A week of family visits in the slots, then the coming ones.
    local_today = current.astimezone(facility_zone(facility)).date()
    visitors_pool = rest[4 : max(len(rest) // 2, 5)]
    held = refused = cancelled = booked = 0
    for slot in dated_slots(facility, local_today - dt.timedelta(days=7), 14):
        past = slot.ends_at < current
        n = int(slot.capacity * rng.uniform(0.55, 0.85)) if past else int(slot.capacity * 0.3)
        for _i in range(n):
            ep = rng.choice(visitors_pool)
            visitor = visitor_register(
                actor=actor,
                person=ep.person,
                kind=VisitKind.FAMILY,
                name=_name(rng),
                relation=rng.choice(RELATIONS),
                id_document=_document(rng),
            )
            visit = visit_book(
                actor=actor, person=ep.person, visitor=visitor, starts_at=slot.starts_at
            )
            if not past:
                booked += 1
            elif refused == 0:
                visit_refuse(actor=actor, visit=visit, reason="visitor_no_identity")
                refused += 1
            elif cancelled == 0:
                visit_cancel(actor=actor, visit=visit, reason="person_unwell")
                cancelled += 1
            else:
                visit_record_held(
                    actor=actor,
                    visit=visit,
                    at=slot.starts_at + dt.timedelta(minutes=rng.randrange(0, 90)),
                )
                held += 1
    upcoming = [s for s in dated_slots(facility, local_today, 8) if s.starts_at > current]
    for ep in rest[-2:]:
        if upcoming:
            visit_request_public(
                actor=Actor.system("public visit request"),
                person=ep.person,
                name=_name(rng),
                relation="madre",
                id_document=_document(rng),
                starts_at=upcoming[0].starts_at,
            )
    # A lawyer's visit two days ago (nothing of it but the visit, Rule 61) and a consular
    # visit yesterday (VCCR art. 36(1)(c)).
    lawyer = visitor_register(
        actor=actor,
        person=lawyer_client.person,
        kind=VisitKind.LAWYER,
        name="Lic. Ana Beatriz Quintanilla",
        relation="defensora",
        id_document="Carné de abogada 12345",
    )
    at = current - dt.timedelta(days=2, hours=3)
    visit = visit_book(actor=actor, person=lawyer_client.person, visitor=lawyer, starts_at=at)
    visit_record_held(actor=actor, visit=visit, at=at + dt.timedelta(minutes=10))
    consul = visitor_register(
        actor=actor,
        person=consular_client.person,
        kind=VisitKind.CONSULAR,
        name="Cónsul Pedro Alvarado",
        relation="consulado",
        id_document="Pasaporte diplomático D0001234",
        country=(consular_client.person.nationalities or ["VE"])[0],
    )
    at = current - dt.timedelta(days=1, hours=5)
    visit = visit_book(actor=actor, person=consular_client.person, visitor=consul, starts_at=at)
    visit_record_held(actor=actor, visit=visit, at=at + dt.timedelta(minutes=5))
    # A consul who asked to visit ten days ago and has not been received (A8.3 open).
    other = visitor_register(
        actor=actor,
        person=consul_waiting.person,
        kind=VisitKind.CONSULAR,
        name="Cónsul Laura Méndez",
        relation="consulado",
        id_document="Pasaporte diplomático D0005678",
        country=(consul_waiting.person.nationalities or ["VE"])[0],
    )
    visit_book(
        actor=actor,
        person=consul_waiting.person,
        visitor=other,
        starts_at=current + dt.timedelta(days=3),
        requested=True,
        requested_at=current - dt.timedelta(days=10),
    )
    return {
        "contacts": logged,
        "visits_held": held,
        "visits_refused": refused,
        "visits_cancelled": cancelled,
        "visits_booked": booked,
        "no_contact_person": cut_off.person_id,
    }


def facility_zone(facility: Facility) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(facility.timezone)
