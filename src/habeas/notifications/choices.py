from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeEvent(models.TextChoices):
    """What a notification tells (Mandela Rules 68-69; VINE: booking, release, advance notice
    of release, transfer)."""

    ADMISSION = "admission", _("Admission")
    TRANSFER = "transfer", _("Transfer")
    RELEASE = "release", _("Release")
    DEATH = "death", _("Death in custody")
    RELEASE_DATE_CHANGED = "release_date_changed", _("Release date changed")
    RELEASE_DUE = "release_due", _("Release due in 14 days")


class Audience(models.TextChoices):
    FAMILY = "family", _("Family (Mandela Rule 68)")
    CONSULAR = "consular", _("Consulate (VCCR art. 36)")
    SENDING_STATE = "sending_state", _("Sending state")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Failed for good")
