"""Admin for accounts: users with their role and scope; API tokens read-only (a token is
issued by its command and shown once; only its digest is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from habeas.accounts.models import APIToken, User
from habeas.ledger.admin import ReadOnlyModelAdmin

_SCOPE = (
    _("Role and scope"),
    {"fields": ("role", "jurisdiction_code", "facility_codes")},
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    """Django's user admin plus the Habeas role and its scope (facilities or a state)."""

    fieldsets: Any = (*DjangoUserAdmin.fieldsets, _SCOPE)  # type: ignore[misc]
    add_fieldsets: Any = (*DjangoUserAdmin.add_fieldsets, _SCOPE)
    list_display = [
        "username",
        "role",
        "jurisdiction_code",
        "facility_codes",
        "is_staff",
        "is_active",
    ]
    list_filter = ["role", "is_staff", "is_superuser", "is_active"]


@admin.register(APIToken)
class APITokenAdmin(ReadOnlyModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    exclude = ["digest"]
