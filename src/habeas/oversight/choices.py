from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessChannel(models.TextChoices):
    """How a person's file was opened (Mandela Rule 9: who saw which record, and how)."""

    WEB = "web", _("Web page")
    API = "api", _("API")
    PDF = "pdf", _("PDF export")
    CLI = "cli", _("Command line")


class AccessQuery(models.TextChoices):
    """A read that names no single file but probes the registry (Mandela Rule 9; issue 10):
    a manifest dry run stores nothing and a matching call changes nothing, so the access log
    is their only trace. Empty: the view of one person's file."""

    FILE = "", _("File view")
    MATCHING = "matching", _("Identity matching")
    DRY_RUN = "dry_run", _("Manifest dry run")


class LocatorStatus(models.TextChoices):
    """INTERFACES.md ``locate --json`` ``status``."""

    IN_CUSTODY = "in_custody", _("In custody")
    RELEASED = "released", _("Released")
    NOT_FOUND = "not_found", _("Not found")
