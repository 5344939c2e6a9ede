from django.db import models
from django.utils.translation import gettext_lazy as _


class Policy(models.TextChoices):
    """Eligibility presets (STANDARDS.md, transfer eligibility)."""

    OUTSOURCING_2025 = "outsourcing_2025", _("Outsourcing arrangement (as reported, 2025)")
    TREATY_TRANSFER = "treaty_transfer", _("Treaty transfer of sentenced persons (ETS 112)")


class SentenceRules(models.TextChoices):
    """How release dates are computed under an agreement (INTERFACES.md v1.1
    ``sentence_rules``; STANDARDS.md, Sentences)."""

    US_FEDERAL = "us_federal", _("US federal (18 U.S.C. §§ 3585(b), 3624(a)-(b))")
    PLAIN = "plain", _("Plain: the full term less custody credit, no remission")


class DayCount(models.TextChoices):
    """Billing day-count conventions (STANDARDS.md, billing)."""

    ARRIVAL_NOT_DEPARTURE = "arrival_not_departure", _("Arrival day billed, departure day not")
    BOTH = "both", _("Arrival and departure days billed")
    MIDNIGHTS = "midnights", _("Midnights in custody")
