"""Transfer between facilities of the registry (Mandela Rule 7(c): every transfer recorded;
Rule 11 separation at the destination; Mandela Rule 68: the family told of a transfer).

The custody episode goes on (INTERFACES.md v1.1, ``transfer``): its facility becomes the
destination, the open placement ends at the transfer time and a new one opens in a cell of the
destination chosen under the same housing rules as an admission. One ``custody.transferred``
entry records both, in the same transaction; notifications queue the transfer notice on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from habeas.core.actor import Actor
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.custody.absences import open_absence
from habeas.custody.services import MSG_BEFORE, _not_future, episode_open_locked
from habeas.facilities.models import Facility
from habeas.housing.allocator import Allocator, is_untried
from habeas.housing.models import Placement
from habeas.housing.placements import occupant_for
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person

MSG_SAME_FACILITY = "person {person} is already held in {facility}"
MSG_AWAY = "person {person} is out of the facility (temporary absence): record the return first"
MSG_NOT_COVERED = "facility {facility} is not covered by agreement {agreement}"
MSG_NO_CELL_THERE = (
    "no cell in {facility} can take this person: every cell for their population and regime "
    "is at working capacity or refused by a separation or keep-apart rule"
)


@service
def custody_transfer(
    *,
    actor: Actor,
    person: Person,
    facility: Facility,
    at: dt.datetime,
    reason: str = "",
) -> Placement:
    """Move a person held in one facility to another facility of the registry (Mandela Rule
    7(c)); the destination must be covered by the episode's agreement (ETS 112 art. 3), and a
    cell there must lawfully take them (Mandela Rule 11). Refused while the person is out on
    a temporary absence."""
    _not_future(at, "the transfer time")
    reason = reason.strip() or "transfer"
    episode = episode_open_locked(person)
    if episode.facility_id == facility.pk:
        raise ValidationFailed(MSG_SAME_FACILITY.format(person=person.pk, facility=facility.code))
    agreement = episode.agreement
    if agreement is not None and not agreement.facilities.filter(pk=facility.pk).exists():
        raise ValidationFailed(
            MSG_NOT_COVERED.format(facility=facility.code, agreement=agreement.code)
        )
    if open_absence(episode) is not None:
        raise Conflict(MSG_AWAY.format(person=person.pk))
    current = (
        Placement.objects.filter(episode=episode, ended_at__isnull=True)
        .select_related("cell")
        .first()
    )
    if current is not None and at < current.started_at:
        raise ValidationFailed(
            MSG_BEFORE.format(
                what="the transfer",
                at=at.isoformat(),
                other="the current placement",
                other_at=current.started_at.isoformat(),
            )
        )
    bases = list(episode.legal_bases.values_list("kind", "judgment_final"))
    who = occupant_for(person, [k for k, _j in bases], at.date(), untried=is_untried(bases))
    allocator = Allocator(facility)
    allocator.prepare({person.pk})
    cell = allocator.choose(who)
    if cell is None:
        raise Conflict(MSG_NO_CELL_THERE.format(facility=facility.code))
    origin = episode.facility.code
    ended: dict[str, Any] | None = None
    if current is not None:
        current.ended_at = at
        current.save(update_fields=["ended_at"])
        ended = {"id": current.pk, "cell": f"{origin}/{current.cell.code}", "ended_at": at}
    episode.facility = facility
    episode.save(update_fields=["facility"])
    placement = Placement(episode=episode, cell=cell, started_at=at, reason=reason)
    placement.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.transferred",
                subject=f"person:{person.pk}",
                occurred_at=at,
                payload={
                    "episode": episode.pk,
                    "origin": origin,
                    "destination": facility.code,
                    "reason": reason,
                    "ended": ended,
                    "placement": {
                        "id": placement.pk,
                        "cell": f"{facility.code}/{cell.code}",
                        "started_at": at,
                        "reason": reason,
                    },
                },
            )
        ],
    )
    return placement


def transfer_summary(payload: dict[str, Any], show_cells: bool) -> str:
    """The history line of a transfer, in words."""
    text = _("Transferred from %(old)s to %(new)s") % {
        "old": payload.get("origin", ""),
        "new": payload.get("destination", ""),
    }
    placement = payload.get("placement") or {}
    if show_cells and placement.get("cell"):
        text += "; " + _("placed in cell %(cell)s") % {"cell": placement["cell"]}
    if payload.get("reason"):
        text += "; " + _("reason: %(reason)s") % {"reason": payload["reason"]}
    return text
