"""Incidents, a sanction and complaints in the demo (INTERFACES.md demo scenario: "an
incident; a complaint"), relative to the moment the demo is loaded:

* a serious injury in a cell three days ago — the victim's injuries seen at admission linked
  (Mandela Rule 7(d)), reported to the Procuraduría para la Defensa de los Derechos Humanos
  (Rule 71) and the family told (Rule 69), then closed; a use of force still open;
* a disciplinary sanction (Rules 36-46) on the alleged perpetrator;
* a confidential complaint of ill-treatment registered by oversight six days ago, and the
  complainant moved to another cell two days ago: the ``retaliation`` alert (A7) is open, on
  oversight's alerts page only;
* a request answered, and a complaint whose answer is overdue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from habeas.conditions.complaints import complaint_file, complaint_set_status
from habeas.conditions.incidents import (
    Involved,
    incident_close,
    incident_notify_kin,
    incident_record,
    incident_report_authority,
    sanction_impose,
)
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ApplicationError
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Cell
from habeas.housing.models import Placement
from habeas.housing.placements import placement_move
from habeas.transfers.models import AdmissionRecord
from habeas.transfers.services import admission_record_update

DAY = dt.timedelta(days=1)


def _held(facility_id: int, before: dt.datetime, skip: int = 0, count: int = 1) -> list[Any]:
    """People held in the facility whose current placement began before ``before``."""
    return [
        pl.episode
        for pl in Placement.objects.filter(
            ended_at__isnull=True,
            started_at__lt=before,
            episode__released_at__isnull=True,
            episode__facility_id=facility_id,
            episode__absences__isnull=True,
        )
        .select_related("episode__person", "episode__facility", "cell")
        .order_by("episode_id")[skip : skip + count]
    ]


def _injuries_record(actor: Actor, episode: Any) -> AdmissionRecord | None:
    """The victim's admission record with the injuries seen on arrival (Rule 7(d))."""
    record = AdmissionRecord.objects.filter(episode=episode).first()
    if record is None:
        return None
    if not record.visible_injuries.strip():
        record = admission_record_update(
            actor=actor,
            record=record,
            visible_injuries="Bruising to the left forearm, healing (seen at intake)",
            rights_language=record.rights_language or "es",
        )
    return record


def _move(actor: Actor, episode: Any, at: dt.datetime) -> bool:
    """Move the person to another cell of their facility that takes them lawfully."""
    current = Placement.objects.filter(episode=episode, ended_at__isnull=True).first()
    cells = Cell.objects.filter(module__facility_id=episode.facility_id).exclude(
        pk=current.cell_id if current else None
    )
    for cell in cells.order_by("pk")[:40]:
        try:
            placement_move(
                actor=actor,
                person=episode.person,
                cell=cell,
                at=at,
                reason="Security reasons (demo)",
            )
        except ApplicationError:
            continue
        return True
    return False


def load_demo_cases(actor: Actor) -> dict[str, Any]:
    """The incidents, sanction and complaints above; returns what was recorded."""
    at = now().replace(second=0, microsecond=0)
    admitted = (
        CustodyEpisode.objects.open()
        .order_by("facility__code")
        .values_list("facility_id", flat=True)
        .first()
    )
    if admitted is None:
        return {}
    people = _held(admitted, at - 10 * DAY, count=5000)
    if len(people) < 5:
        return {}
    recorded = set(
        AdmissionRecord.objects.filter(episode__in=[e.pk for e in people]).values_list(
            "episode_id", flat=True
        )
    )
    victim = next((e for e in people if e.pk in recorded), people[0])
    others = [e for e in people if e.pk != victim.pk]
    perpetrator, witness, complainant, other = others[0], others[1], others[2], others[3]
    facility = victim.facility
    cell = Placement.objects.filter(episode=victim, ended_at__isnull=True).first()
    when = at - 3 * DAY
    injury = incident_record(
        actor=actor,
        facility=facility,
        kind="serious_injury",
        occurred_at=when,
        place=cell.cell.code if cell else "",
        description=(
            "Fight in the cell during the evening lock-in; the victim was taken to the "
            "infirmary with a head wound and referred to hospital."
        ),
        people=[
            Involved(victim.person, "victim", _injuries_record(actor, victim)),
            Involved(perpetrator.person, "alleged_perpetrator"),
            Involved(witness.person, "witness"),
        ],
    )
    incident_report_authority(
        actor=actor,
        incident=injury,
        authority="Procuraduría para la Defensa de los Derechos Humanos (PDDH)",
        reported_at=when + dt.timedelta(hours=2),
        reference="PDDH-SS-2025-0412",
    )
    incident_notify_kin(
        actor=actor,
        incident=injury,
        notified="His sister (the contact in the admission record)",
        how="telephone",
        at=when + dt.timedelta(hours=3),
    )
    incident_close(actor=actor, incident=injury, note="Victim back from hospital; PDDH informed")
    force = incident_record(
        actor=actor,
        facility=facility,
        kind="use_of_force",
        occurred_at=at - DAY,
        place="Patio B",
        description="Restraint used to separate two people during the count.",
        people=[Involved(perpetrator.person, "subject_of_force")],
    )
    sanction_impose(
        actor=actor,
        person=perpetrator.person,
        facility=facility,
        measure="loss_of_privileges",
        reason=f"Assault on a cell-mate (incident {injury.pk})",
        starts_at=when + DAY,
        ends_at=when + 15 * DAY,
    )
    monitor = Actor(name="monitor", role="oversight")
    secret = complaint_file(
        actor=monitor,
        person=complainant.person,
        facility=facility,
        kind="complaint",
        category="ill_treatment",
        filer="person",
        text="Beaten by two custodians during the night search; asks not to be named.",
        confidential=True,
        received_at=at - 6 * DAY,
    )
    moved = _move(actor, complainant, at - 2 * DAY)
    request = complaint_file(
        actor=actor,
        person=witness.person,
        facility=facility,
        kind="request",
        category="contact",
        text="Asks for a telephone call to his mother in San Miguel.",
        received_at=at - 5 * DAY,
    )
    complaint_set_status(
        actor=actor, complaint=request, status="answered", answer="Call granted for Friday."
    )
    late = complaint_file(
        actor=actor,
        person=other.person,
        facility=facility,
        kind="complaint",
        category="conditions",
        text="No water in the cell for two days.",
        received_at=at - 40 * DAY,
    )
    return {
        "incidents": [injury.pk, force.pk],
        "confidential_complaint": secret.pk,
        "moved": moved,
        "overdue_complaint": late.pk,
    }
