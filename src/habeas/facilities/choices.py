from django.db import models
from django.utils.translation import gettext_lazy as _


class SpaceStandard(models.TextChoices):
    """Minimum living space per person (STANDARDS.md, space per person)."""

    ICRC = "icrc", _("ICRC (3.4 m² shared, 5.4 m² single)")
    CPT = "cpt", _("CPT (4 m² shared, 6 m² single)")
    ECTHR = "ecthr", _("ECtHR Muršić (3 m² shared)")


class ModulePopulation(models.TextChoices):
    """Mandela Rule 11(a) and (d): men and women, young and adults held apart."""

    ADULT_MALE = "adult_male", _("Adult men")
    ADULT_FEMALE = "adult_female", _("Adult women")
    YOUTH_MALE = "youth_male", _("Young men")
    YOUTH_FEMALE = "youth_female", _("Young women")


class ModuleRegime(models.TextChoices):
    """Mandela Rule 11(c): civil prisoners (incl. immigration detainees) apart from criminal."""

    CRIMINAL = "criminal", _("Criminal")
    CIVIL = "civil", _("Civil / administrative")
