"""What the conditions app stores: acknowledgements of open alerts. The alerts themselves
are computed from the registry (:mod:`habeas.conditions.alerts`)."""

from __future__ import annotations

from django.db import models

from habeas.core.services import ServiceModel


class AlertAcknowledgement(ServiceModel):
    """A facility officer's acknowledgement of one open alert (INTERFACES.md, alert status
    ``acknowledged``): who, when, and what is being done about it. It covers this occurrence
    of the condition only — the alert's id *and* its ``since``: an alert that clears and comes
    back later is open again. Acknowledging never closes an alert; only fixing its cause does."""

    alert = models.CharField(max_length=200, help_text="the alert id, e.g. space:cell:TEC/M1-01")
    since = models.CharField(max_length=40, help_text="the alert's 'since' as ISO 8601 text")
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="alert_acknowledgements"
    )
    note = models.TextField()
    acknowledged_by = models.CharField(max_length=150)
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "since"], name="one_ack_per_occurrence")
        ]

    def __str__(self) -> str:
        return f"{self.alert} acknowledged by {self.acknowledged_by}"


from habeas.conditions.cases_models import Complaint, Incident, IncidentPerson, Sanction  # noqa: E402, F401
from habeas.conditions.readings_models import *  # noqa: E402, F403
