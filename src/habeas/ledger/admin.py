"""Admin for the ledger, and the read-only base every domain admin uses.

The admin is a window, never a door: custody data changes only through services, which
write the ledger in the same transaction (ARCHITECTURE.md, the one rule). Ledger rows are
append-only at the database level too (migration 0002)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from habeas.ledger.models import (
    NODE_LEVEL_SHIFT,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    LedgerVerification,
    SubjectKey,
)


class ReadOnlyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shows rows, never adds, changes or deletes them (Mandela Rule 6: every change is a
    recorded event, so it must go through a service)."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    list_display = [
        "index",
        "action",
        "subject",
        "occurred_at",
        "recorded_at",
        "actor",
        "leaf_hash",
    ]
    # No list_filter on action: its choices are a DISTINCT over every entry on each page
    # load (a full scan of millions of rows; action has no index). Search by action instead.
    search_fields = ["=index", "=subject", "action", "actor"]
    ordering = ["-index"]
    date_hierarchy = "recorded_at"


@admin.register(LedgerNode)
class LedgerNodeAdmin(ReadOnlyModelAdmin):
    list_display = ["key", "level", "position", "hash_hex"]
    ordering = ["key"]

    @admin.display(description=_("level"))
    def level(self, obj: LedgerNode) -> int:
        return obj.key >> NODE_LEVEL_SHIFT

    @admin.display(description=_("index"))
    def position(self, obj: LedgerNode) -> int:
        return obj.key & ((1 << NODE_LEVEL_SHIFT) - 1)

    @admin.display(description=_("hash"))
    def hash_hex(self, obj: LedgerNode) -> str:
        return bytes(obj.hash).hex()


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "size"]


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnlyModelAdmin):
    list_display = ["size", "root", "created_at"]


@admin.register(LedgerVerification)
class LedgerVerificationAdmin(ReadOnlyModelAdmin):
    list_display = ["ran_at", "size", "root", "ok"]
    list_filter = ["ok"]


@admin.register(SubjectKey)
class SubjectKeyAdmin(ReadOnlyModelAdmin):
    """Which data subjects have a commitment key; never the key itself (it would let anyone
    test guesses against the ledger's commitments)."""

    list_display = ["name", "created_at"]
    fields = ["name", "created_at"]
    search_fields = ["=name"]
