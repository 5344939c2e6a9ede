from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalBasisKind(models.TextChoices):
    """Mandela Rule 7: no one is received without a valid commitment order."""

    REMOVAL_ORDER = "removal_order", _("Removal order")
    CRIMINAL_SENTENCE = "criminal_sentence", _("Criminal sentence")


class Consent(models.TextChoices):
    """ETS 112 art. 3(1)(d): the sentenced person's consent to the transfer."""

    YES = "yes", _("yes")
    NO = "no", _("no")
    UNKNOWN = "unknown", _("unknown")


class ReleaseReason(models.TextChoices):
    """INTERFACES.md ``release --reason``."""

    SENTENCE_SERVED = "sentence_served", _("Sentence served")
    REPATRIATED = "repatriated", _("Repatriated")
    RETURNED = "returned_to_sending_state", _("Returned to the sending state")
    COURT_ORDER = "court_order", _("Court order")
    DEATH = "death", _("Death in custody")
    TRANSFERRED = "transferred", _("Transferred")
    OTHER = "other", _("Other")


class StatusInSendingState(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    PERMANENT_RESIDENT = "permanent_resident", _("Permanent resident")
    OTHER = "other", _("Other")
