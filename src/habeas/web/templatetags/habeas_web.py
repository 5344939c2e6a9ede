"""Template helpers of the web shell: ledger footer, country names, role label."""

from __future__ import annotations

import gettext
import re
from functools import lru_cache
from typing import Any

import pycountry
from django import template
from django.db import DatabaseError
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from habeas.accounts import permissions
from habeas.ledger.models import LedgerHead
from habeas.ledger.services import ledger_root, ledger_size

register = template.Library()

#: Hex digits of the Merkle root shown in the footer (enough to compare at a glance).
ROOT_PREFIX = 16


@register.simple_tag
def ledger_status() -> dict[str, Any] | None:
    """Size and root prefix of the ledger (Mandela Rule 6), two indexed reads: the head row
    and the O(log n) stored subtree hashes that fold into the root."""
    try:
        size = ledger_size()
        root = ledger_root(size).hex()
    except (DatabaseError, LookupError, LedgerHead.DoesNotExist):
        return None
    return {"size": size, "root": root[:ROOT_PREFIX], "root_full": root}


@lru_cache(maxsize=4)
def _country_translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


@register.filter
def country(code: str) -> str:
    """The country's short name in the active language (ISO 3166-1, pycountry's
    translations): "Venezuela", not "Venezuela, Bolivarian Republic of"."""
    found = pycountry.countries.get(alpha_2=str(code).upper()) if code else None
    if found is None:
        return str(code)
    common = getattr(found, "common_name", None)
    language = (get_language() or "en").split("-")[0]
    if language == "en":
        return str(common or found.name)
    translated = _country_translation(language).gettext(found.name)
    head, comma, _rest = found.name.partition(", ")
    if common and comma and common == head:
        # "Venezuela, República Bolivariana de" → "Venezuela", as the English short name does
        return translated.partition(", ")[0]
    return translated


@register.filter
def role_label(user: Any) -> str:
    """The user's role as shown in the header."""
    return permissions.role_label(user)


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@register.filter
def duration(value: Any) -> str:
    """An ISO 8601 duration in words in the active language (``P6Y`` → "6 years",
    ``P1Y6M`` → "1 year and 6 months"; ``life`` → "life"); anything else as it is."""
    text = str(value or "").strip()
    if text == "life":
        return str(_("life"))
    found = _DURATION.match(text)
    if not found or not any(found.groups()):
        return text
    years, months, weeks, days = (int(g) if g else 0 for g in found.groups())
    parts = []
    if years:
        parts.append(ngettext("%(n)d year", "%(n)d years", years) % {"n": years})
    if months:
        parts.append(ngettext("%(n)d month", "%(n)d months", months) % {"n": months})
    if weeks:
        parts.append(ngettext("%(n)d week", "%(n)d weeks", weeks) % {"n": weeks})
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if len(parts) == 1:
        return parts[0]
    return str(_("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]})
