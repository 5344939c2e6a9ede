"""Writes of the conditions app: acknowledging an open alert (one ledger entry)."""

from __future__ import annotations

from typing import Any

from habeas.accounts.permissions import may_acknowledge_alert
from habeas.conditions.alerts import KINDS, Alert, alerts_for, since_key
from habeas.conditions.models import AlertAcknowledgement
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from habeas.core.services import service
from habeas.facilities.models import Facility
from habeas.ledger.services import Event, ledger_append_many

MSG_NOT_OPEN = "no open alert {alert}: it has cleared, or it is not in your facilities"
MSG_ALREADY = "alert {alert} was already acknowledged by {by} at {at}"
MSG_NOTE = "an acknowledgement needs a note: what is being done about it"
MSG_READ_ONLY = (
    "only the staff and director of the facility acknowledge its alerts; oversight reads them"
)


@service
def alert_acknowledge(*, actor: Actor, user: Any, alert_id: str, note: str) -> AlertAcknowledgement:
    """Record that ``user`` has seen the open alert ``alert_id`` and what is being done. The
    alert must be open now and in ``user``'s scope (else 404, as for anything out of scope);
    one acknowledgement per occurrence (409 on a second). One
    ``conditions.alert_acknowledged`` entry."""
    text = note.strip()
    if not text:
        raise ValidationFailed(MSG_NOTE)
    kind = alert_id.partition(":")[0]
    candidates = alerts_for(user=user, kinds=[kind]) if kind in KINDS else []
    found: Alert | None = next((a for a in candidates if a.id == alert_id), None)
    if found is None:
        raise NotFound(MSG_NOT_OPEN.format(alert=alert_id))
    if not may_acknowledge_alert(user, found.facility):
        raise Forbidden(MSG_READ_ONLY)
    if found.status == "acknowledged":
        raise Conflict(
            MSG_ALREADY.format(alert=alert_id, by=found.acknowledged_by, at=found.acknowledged_at)
        )
    at = now()
    ack = AlertAcknowledgement(
        alert=alert_id,
        since=since_key(found.since),
        facility=Facility.objects.get(code=found.facility),
        note=text,
        acknowledged_by=actor.name,
        acknowledged_at=at,
    )
    ack.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="conditions.alert_acknowledged",
                subject=f"alert:{alert_id}",
                occurred_at=at,
                payload={
                    "id": ack.pk,
                    "alert": alert_id,
                    "since": ack.since,
                    "facility": found.facility,
                    "kind": found.kind,
                    "value": found.value,
                    "note": text,
                    "acknowledged_by": actor.name,
                    "acknowledged_at": at,
                },
            )
        ],
    )
    return ack
