from django.db import models
from django.utils.translation import gettext_lazy as _


class Decision(models.TextChoices):
    """The eligibility decision of a manifest entry (ISSUE 3; INTERFACES.md report)."""

    ELIGIBLE = "eligible", _("Eligible")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    INELIGIBLE = "ineligible", _("Ineligible")


class Outcome(models.TextChoices):
    """One rule's verdict."""

    PASS = "pass", _("pass")
    REVIEW = "review", _("review")
    FAIL = "fail", _("fail")


class EntryStatus(models.TextChoices):
    """Where an entry stands after its decision: the receiving state's acceptance, then
    the arrival."""

    DECIDED = "decided", _("Decided")
    ACCEPTED = "accepted", _("Accepted")
    ADMITTED = "admitted", _("Admitted")


class NotificationKind(models.TextChoices):
    CONSULAR = "consular", _("Consular notification (VCCR art. 36; Mandela Rule 62)")
    FAMILY = "family", _("Family notification (Mandela Rule 68)")


class IdentityVerdict(models.TextChoices):
    """A person's judgement of a possible match between a manifest entry and a registry
    person (Mandela Rule 7(a): one identity per person)."""

    SAME = "same", _("Same person")
    DIFFERENT = "different", _("Different person")
