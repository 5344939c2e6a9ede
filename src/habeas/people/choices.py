from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    """MANIFEST.md ``sex``; Mandela Rule 7(a) asks to respect self-perceived gender."""

    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    OTHER = "X", _("X (unspecified)")


class DatePrecision(models.TextChoices):
    """How much of a date of birth is known (MANIFEST.md: YYYY-MM-DD, YYYY-MM or YYYY)."""

    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")
