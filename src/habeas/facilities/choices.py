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


class CellDeactivationReason(models.TextChoices):
    """Why a cell is out of use (HMPPS locations model: a location taken out of use keeps
    its reason)."""

    DAMAGED = "damaged", _("Damaged")
    MAINTENANCE = "maintenance", _("Maintenance")
    SECURITY_SEALED = "security_sealed", _("Security-sealed")
    STAFF_SHORTAGE = "staff_shortage", _("Staff shortage")
    OTHER = "other", _("Other")


class KeepApartScope(models.TextChoices):
    """How far apart two people are held: never in one cell; never in one module; never in
    one facility. A cell scope is absolute; module and facility scopes may be overridden by a
    facility admin with a reason."""

    CELL = "cell", _("Not in the same cell")
    MODULE = "module", _("Not in the same module")
    FACILITY = "facility", _("Not in the same facility")


class KeepApartRole(models.TextChoices):
    """The part each party plays in a keep-apart record."""

    VICTIM = "victim", _("Victim")
    AGGRESSOR = "aggressor", _("Aggressor")
    WITNESS = "witness", _("Witness")
    CO_ACCUSED = "co_accused", _("Co-accused")
    RIVAL = "rival", _("Rival group")
    INFORMANT = "informant", _("Informant")
    FAMILY = "family", _("Family member")
    OTHER = "other", _("Other")


class KeepApartSource(models.TextChoices):
    MANIFEST = "manifest", _("Transfer manifest")
    STAFF = "staff", _("Staff")


class RollCountSource(models.TextChoices):
    CLI = "cli", _("Command line")
    API = "api", _("API")
    WEB = "web", _("Web page")
