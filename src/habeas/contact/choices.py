"""Choices of outside contact (Mandela Rules 43(3), 58-62; VCCR art. 36(1)(c))."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitKind(models.TextChoices):
    FAMILY = "family", _("Family or friends (Mandela Rule 58)")
    LAWYER = "lawyer", _("Legal adviser (Mandela Rule 61)")
    CONSULAR = "consular", _("Consular officer (VCCR art. 36(1)(c))")


class VisitStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    BOOKED = "booked", _("Booked")
    TOOK_PLACE = "took_place", _("Took place")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


#: A visit still to happen: it holds a place in its slot.
PENDING = (VisitStatus.REQUESTED, VisitStatus.BOOKED)


class VisitSource(models.TextChoices):
    STAFF = "staff", _("Booked by staff")
    PUBLIC = "public", _("Requested on the public page")


class VisitEndReason(models.TextChoices):
    """Why a visit was refused or cancelled: a fixed list, so that refusals can be counted and
    reviewed by oversight (Mandela Rules 58, 83-85). A punishment is not among them: family
    contact is never withdrawn as a disciplinary sanction (Mandela Rule 43(3))."""

    PERSON_DECLINED = "person_declined", _("The person declined the visit")
    PERSON_UNWELL = "person_unwell", _("The person is ill or in hospital")
    PERSON_ABSENT = "person_absent", _("The person is out of the facility (court, hospital)")
    PERSON_RELEASED = "person_released", _("The person was released or transferred")
    VISITOR_NO_IDENTITY = "visitor_no_identity", _("The visitor showed no valid identity document")
    VISITOR_PROHIBITED_ITEMS = (
        "visitor_prohibited_items",
        _("The visitor carried prohibited items (security)"),
    )
    VISITOR_ABSENT = "visitor_absent", _("The visitor did not come")
    VISITOR_WITHDREW = "visitor_withdrew", _("The visitor withdrew the request")
    SLOT_FULL = "slot_full", _("The slot is full")
    NOT_HELD_HERE = "not_held_here", _("Nobody of that reference is held here")
    LOCKDOWN = "lockdown", _("The facility is locked down (security emergency)")
    RESTRICTION = "restriction", _("A security restriction on this contact is in force")


class ContactKind(models.TextChoices):
    PHONE_CALL = "phone_call", _("Phone call")
    VIDEO_CALL = "video_call", _("Video call")
    LETTER_SENT = "letter_sent", _("Letter sent")
    LETTER_RECEIVED = "letter_received", _("Letter received")


class Counterpart(models.TextChoices):
    FAMILY = "family", _("Family or friends")
    LAWYER = "lawyer", _("Legal adviser")
    CONSULAR = "consular", _("Consulate")
    OTHER = "other", _("Other")


class RestrictionMeans(models.TextChoices):
    VISITS = "visits", _("Family visits")
    CALLS = "calls", _("Calls")
    LETTERS = "letters", _("Letters")


class RestrictionReason(models.TextChoices):
    """Why a means of family contact is restricted. Only security and order may justify it,
    for a limited time (Mandela Rule 43(3)); ``disciplinary`` is listed so that the refusal is
    explicit and cited, never silently accepted."""

    SECURITY = "security", _("Security (strictly required, for a limited time)")
    ORDER = "order", _("Good order (strictly required, for a limited time)")
    DISCIPLINARY = "disciplinary", _("Disciplinary sanction (never allowed: Mandela Rule 43(3))")
