"""Admin for the person registry, read-only: people are registered and corrected through
services (Mandela Rule 7(a); every change a ledger event)."""

from __future__ import annotations

from django.contrib import admin

from habeas.ledger.admin import ReadOnlyModelAdmin
from habeas.people.models import Person, PersonIdentifier


class PersonIdentifierInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PersonIdentifier
    extra = 0
    can_delete = False
    fields = ("authority", "kind", "value")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "first_surname", "second_surname", "given_names", "date_of_birth", "sex"]
    list_filter = ["sex"]
    search_fields = ["given_names", "first_surname", "second_surname", "=identifiers__value"]
    inlines = [PersonIdentifierInline]


@admin.register(PersonIdentifier)
class PersonIdentifierAdmin(ReadOnlyModelAdmin):
    list_display = ["value", "authority", "kind", "person"]
    list_select_related = ["person"]
    list_filter = ["authority", "kind"]
    search_fields = ["=value"]
