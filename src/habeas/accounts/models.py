"""Accounts. Scopes are stored as codes (facility codes, an ISO 3166 jurisdiction code) so
this app stays below the domain apps; each app's selectors interpret them
(``<Model>.objects.visible_to(user)``)."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from habeas.accounts.choices import Role


class User(AbstractUser):
    """A Habeas user with one role and its scope."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    jurisdiction_code = models.CharField(
        _("jurisdiction"),
        max_length=2,
        blank=True,
        help_text=_("Liaison and finance: the state whose transferees and invoices they see."),
    )
    facility_codes = models.JSONField(
        _("facilities"),
        default=list,
        blank=True,
        help_text=_("Facility staff and admins: the facilities they work in."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="liaison") | ~models.Q(jurisdiction_code=""),
                name="liaison_has_jurisdiction",
            ),
        ]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class APIToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored (shown once at creation)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def generate() -> str:
        return "hb_" + secrets.token_urlsafe(32)
