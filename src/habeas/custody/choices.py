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


class AbsenceKind(models.TextChoices):
    """Why someone held is temporarily outside the facility, keeping their bed (HMPPS
    establishment roll "out": court, hospital, other; Mandela Rule 70 for compassionate leave;
    Rule 7(c) for every movement)."""

    COURT = "court", _("Court")
    HOSPITAL = "hospital", _("Hospital")
    MEDICAL_APPOINTMENT = "medical_appointment", _("Medical appointment")
    FUNERAL_OR_FAMILY_VISIT = "funeral_or_family_visit", _("Funeral or family visit")
    OTHER = "other", _("Other")


class AbsenceEnd(models.TextChoices):
    """How an absence ended: the person came back, or custody ended while they were out."""

    RETURNED = "returned", _("Returned")
    RELEASED = "released", _("Released while out")


class BasisStatus(models.TextChoices):
    """Whether a commitment order still holds the person (Mandela Rule 7(b)). An amended
    order is kept, superseded by the one that replaced it (a court's new sentence, a treaty
    conversion, ETS 112 arts. 9-11); a vacated order holds nobody from the day it was set
    aside."""

    ACTIVE = "active", _("In force")
    SUPERSEDED = "superseded", _("Superseded")
    VACATED = "vacated", _("Vacated")


class CreditChange(models.TextChoices):
    """18 U.S.C. § 3624(b): good conduct time disallowed or forfeited by a disciplinary
    finding, and restored."""

    FORFEITED = "forfeited", _("Good conduct time forfeited")
    RESTORED = "restored", _("Good conduct time restored")


class AlarmStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
