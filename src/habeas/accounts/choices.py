from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of ARCHITECTURE.md. Scope: staff and admins to their facilities, liaisons and
    finance to their jurisdiction; oversight and auditors read everything (Mandela Rules 9, 83-85)
    but no medical detail."""

    FACILITY_STAFF = "facility_staff", _("Facility staff")
    FACILITY_ADMIN = "facility_admin", _("Facility admin")
    LIAISON = "liaison", _("Sending-state liaison")
    FINANCE = "finance", _("Finance")
    OVERSIGHT = "oversight", _("Oversight monitor")
    AUDITOR = "auditor", _("Auditor")
    #: A member of a registered inspection body (OPCAT arts. 4, 14 and 20; Mandela Rules
    #: 83-85): reads what oversight reads, for the facilities of the body's mandate.
    INSPECTOR = "inspector", _("Inspector")
