from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessChannel(models.TextChoices):
    """How a person's file was opened (Mandela Rule 9: who saw which record, and how)."""

    WEB = "web", _("Web page")
    API = "api", _("API")
    PDF = "pdf", _("PDF export")
    CLI = "cli", _("Command line")


class LocatorStatus(models.TextChoices):
    """INTERFACES.md ``locate --json`` ``status``."""

    IN_CUSTODY = "in_custody", _("In custody")
    RELEASED = "released", _("Released")
    NOT_FOUND = "not_found", _("Not found")
