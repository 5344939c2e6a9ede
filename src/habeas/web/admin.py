"""The Django admin's titles (the admin is for superusers and auditors; it never writes
custody data, see ``habeas.ledger.admin.ReadOnlyModelAdmin``)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Habeas administration")
admin.site.site_title = _("Habeas")
admin.site.index_title = _("Records (read-only: changes go through services)")
