"""Jurisdictions and agreements (STANDARDS.md: transfer eligibility, billing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q

from habeas.accounts.permissions import ScopeLookups, scope_of
from habeas.agreements.choices import DayCount, Policy, SentenceRules
from habeas.core.services import ServiceModel, ServiceQuerySet

if TYPE_CHECKING:
    from habeas.accounts.models import User


class Jurisdiction(ServiceModel):
    """A state (ISO 3166-1 alpha-2 code)."""

    code = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


#: How facility staff reach agreements: through the facilities an agreement covers (the
#: relation belongs to ``facilities``, above; ``habeas.facilities.models`` registers it).
AGREEMENT_SCOPE = ScopeLookups()


class AgreementQuerySet(ServiceQuerySet):
    def visible_to(self, user: User | Any) -> AgreementQuerySet:
        """Liaisons and finance see the agreements their state is party to; facility roles
        those covering their facilities; oversight and auditors all."""
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.facility_codes is not None:
            where = AGREEMENT_SCOPE.where(scope)
            return self.none() if where is None else self.filter(where).distinct()
        if scope.state is not None:
            code = scope.state
            return self.filter(Q(sending__code=code) | Q(receiving__code=code))
        return self.none()


#: Seven years: long enough for appeals, complaints and civil claims about a custody to be
#: brought and answered; an agreement may set its own period in the setup file.
DEFAULT_RETENTION_DAYS = 7 * 365


class Agreement(ServiceModel):
    """An arrangement under which the receiving state holds people for the sending state:
    its eligibility policy, quota, term and fee schedule."""

    code = models.CharField(max_length=64, unique=True)
    sending = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    receiving = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    policy = models.CharField(max_length=32, choices=Policy.choices)
    policy_options = models.JSONField(default=dict, blank=True)
    max_persons = models.PositiveIntegerField(null=True, blank=True)
    starts = models.DateField()
    ends = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    per_person_day = models.DecimalField(max_digits=12, decimal_places=2)
    day_count = models.CharField(
        max_length=32, choices=DayCount.choices, default=DayCount.ARRIVAL_NOT_DEPARTURE
    )
    #: A fixed fee billed once for every month the agreement is in force (STANDARDS.md,
    #: Billing: "other charges").
    monthly_fee = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    #: ``[{"above": N, "per_person_day": "50.00"}]``: another rate for each person-day above
    #: N people held on that day.
    tiers = models.JSONField(default=list, blank=True)
    #: How long after a person's last release their personal data is kept before it may be
    #: erased (``habeas erase``; ARCHITECTURE.md, "Personal data and the ledger").
    retention_days = models.PositiveIntegerField(default=DEFAULT_RETENTION_DAYS)
    #: The rule set release dates are computed by (``habeas.custody.release``).
    sentence_rules = models.CharField(
        max_length=16, choices=SentenceRules.choices, default=SentenceRules.PLAIN
    )

    objects = AgreementQuerySet.as_manager()  # type: ignore[misc]  # narrows the guarded base manager

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__isnull=True) | Q(ends__gte=F("starts")),
                name="agreement_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(sending=F("receiving")), name="agreement_two_states"
            ),
            models.CheckConstraint(condition=Q(per_person_day__gte=0), name="agreement_fee_nonneg"),
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0), name="agreement_monthly_fee_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def in_force_on(self, day: dt.date) -> bool:
        return self.starts <= day and (self.ends is None or day <= self.ends)

    @property
    def fees(self) -> dict[str, str]:
        return {"per_person_day": str(self.per_person_day), "day_count": self.day_count}

    @property
    def daily_rate(self) -> Decimal:
        return self.per_person_day


class FeeChange(ServiceModel):
    """A change of an agreement's fee schedule from a date (STANDARDS.md, Billing: "a rate
    change applies from its effective date to the days on or after it"). Recorded once and
    never edited: a later change is a new row. An empty field leaves that part of the
    schedule as it was."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="fee_changes")
    effective_from = models.DateField()
    per_person_day = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    monthly_fee = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    tiers = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["agreement", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "effective_from"], name="one_fee_change_per_day"
            ),
            models.CheckConstraint(
                condition=Q(per_person_day__isnull=True) | Q(per_person_day__gte=0),
                name="fee_change_rate_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(monthly_fee__isnull=True) | Q(monthly_fee__gte=0),
                name="fee_change_monthly_fee_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"fee change of {self.agreement_id} from {self.effective_from}"
