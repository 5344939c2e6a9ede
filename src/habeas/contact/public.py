"""The public visiting page and visit request (Mandela Rule 58(1)).

The request names the person as the locator does (the sending state's reference and the
nationality) and never reveals more than the locator: the answer is the same whether or not
someone of that reference is held in the chosen facility (docs/security.md, locator
conventions). Only a match becomes a request for staff to confirm; nothing is kept of the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils.translation import gettext as _

from habeas.contact.choices import PENDING, VisitKind, VisitStatus
from habeas.contact.models import Visit
from habeas.contact.schedule import DatedSlot, dated_slots
from habeas.contact.services import visit_request_public
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ApplicationError
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.people.models import PersonIdentifier

log = logging.getLogger(__name__)

#: How far ahead the public page offers slots.
PUBLIC_DAYS = 14


@dataclass(frozen=True)
class Outcome:
    error: str = ""
    facility: Facility | None = None


def _slots_left(facility: Facility, slots: list[DatedSlot]) -> list[dict[str, Any]]:
    if not slots:
        return []
    taken = dict(
        Visit.objects.filter(
            facility=facility,
            kind=VisitKind.FAMILY,
            status__in=[*PENDING, VisitStatus.TOOK_PLACE],
            starts_at__gte=slots[0].starts_at,
            starts_at__lte=slots[-1].starts_at,
        )
        .values_list("starts_at")
        .annotate(n=Count("pk"))
    )
    return [
        {
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "capacity": s.capacity,
            "left": max(s.capacity - taken.get(s.starts_at, 0), 0),
            "value": s.starts_at.isoformat(),
        }
        for s in slots
    ]


def upcoming_slots(facility: Facility) -> list[dict[str, Any]]:
    """The facility's slots from now to :data:`PUBLIC_DAYS` days ahead, with places left."""
    current = now()
    local = current.astimezone(ZoneInfo(facility.timezone)).date()
    slots = [s for s in dated_slots(facility, local, PUBLIC_DAYS) if s.starts_at > current]
    return _slots_left(facility, slots)


def visiting_facilities(language: str) -> list[dict[str, Any]]:
    """Every facility's public visiting information in ``language`` (else the default)."""
    found = []
    for f in Facility.objects.order_by("code"):
        text = (f.visiting_translations or {}).get(language) or f.visiting
        found.append(
            {
                "facility": f,
                "code": f.code,
                "name": f.name,
                "address": f.address,
                "phone": f.phone,
                "visiting": text,
                "slots": upcoming_slots(f),
            }
        )
    return found


def public_request(data: dict[str, Any]) -> Outcome:
    """Record a public request when the reference matches someone held in the facility; the
    same outcome otherwise. Errors are about the facility and the slot only (public facts)."""
    facility = Facility.objects.filter(code=data["facility"]).first()
    if facility is None:
        return Outcome(error=_("Choose one of the facilities listed."))
    slot = next((s for s in upcoming_slots(facility) if s["value"] == data["slot"]), None)
    if slot is None:
        return Outcome(error=_("Choose one of the visiting slots listed."))
    if slot["left"] <= 0:
        return Outcome(error=_("That visiting slot is full: choose another."))
    episode = (
        CustodyEpisode.objects.open()
        .filter(
            facility=facility,
            person__in=PersonIdentifier.objects.filter(value__iexact=data["reference"]).values(
                "person_id"
            ),
        )
        .select_related("person")
        .first()
    )
    if episode is not None and data["nationality"] in (episode.person.nationalities or []):
        try:
            visit_request_public(
                actor=Actor.system("public visit request"),
                person=episode.person,
                name=data["visitor_name"],
                relation=data["relation"],
                id_document=data["id_document"],
                starts_at=slot["starts_at"],
            )
        except ApplicationError:
            # A restriction or a full slot found under the lock: the answer stays the same
            # (it must not say whether the person is held); staff see nothing to confirm.
            log.info("a public visit request could not be recorded")
    return Outcome(facility=facility)
