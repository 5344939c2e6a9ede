"""Human summaries of ledger entries for the person's history (Mandela Rule 7(c): the day
and hour of admission, release and every transfer, read back from the ledger itself).

Each action's label, summary and who may see it are declared with the action, in its app's
``events.py`` (:class:`habeas.core.events.Action`); this module only reads the registry. An
action without a summary falls back to its payload's scalar fields, never a personal value's
commitment. Summaries are plain text built from the entry's payload; templates escape them
like any other value, so a name written as ``<script>`` by a sending state stays text. Cell
codes are left out for roles that may not see where inside a prison someone is held.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from habeas.core import events as registry
from habeas.ledger.models import LedgerEntry

#: How much of an unknown payload is shown before it is cut.
FALLBACK_LIMIT = 200

_CELL_KEYS = {"cell", "cells", "placement", "ended", "placement_ended"}
_COMMITMENT = "hmac-sha256:"


def _shown(value: Any) -> bool:
    """A scalar worth printing: not empty, not a personal value's commitment."""
    if isinstance(value, dict | list) or value in (None, ""):
        return False
    return not (isinstance(value, str) and value.startswith(_COMMITMENT))


def _internal(key: str) -> bool:
    """A registry row's id or a digest: meaningless to a reader (``record.id: 87``)."""
    return key in ("id", "pk", "person", "episode") or key.endswith(("_id", "_ids", "sha256"))


def _words(key: str) -> str:
    return key.replace("_", " ")


def _fallback(payload: dict[str, Any], show_cells: bool) -> str:
    """Actions without a summary: the payload's scalar fields in words, one level of nesting
    flattened (``record language: es``), registry ids, digests and commitments left out, cut
    at ``FALLBACK_LIMIT``."""
    parts: list[str] = []
    for key in sorted(payload):
        value = payload[key]
        if (not show_cells and key in _CELL_KEYS) or _internal(key):
            continue
        if isinstance(value, dict):
            for sub in sorted(value):
                inner = value[sub]
                if not _shown(inner) or _internal(sub):
                    continue
                if not show_cells and sub in _CELL_KEYS:
                    continue
                parts.append(f"{_words(key)} {_words(sub)}: {inner}")
        elif _shown(value):
            parts.append(f"{_words(key)}: {value}")
    text = "; ".join(parts)
    if len(text) > FALLBACK_LIMIT:
        text = text[: FALLBACK_LIMIT - 1] + "…"
    return text


def visible_in_history(action: str, *, show_cells: bool) -> bool:
    """Whether a role sees this entry in a person's history: roles that see cells see all;
    sending-state liaisons and finance officers see the person's identity and custody
    (``public_history``), never the admission record (injuries, family: Mandela Rule 9) nor
    notifications to relatives."""
    if show_cells:
        return True
    declared = registry.action(action)
    return declared is not None and declared.public_history


def entry_summary(entry: LedgerEntry, *, show_cells: bool) -> str:
    """One line describing what ``entry`` records."""
    try:
        payload = entry.payload
    except (ValueError, KeyError, TypeError):
        return _("(payload unreadable)")
    if not isinstance(payload, dict):
        return ""
    declared = registry.action(entry.action)
    summary = declared.summary if declared is not None else None
    if summary is None:
        return _fallback(payload, show_cells)
    try:
        return summary(payload, show_cells)
    except (AttributeError, TypeError, KeyError):
        return _fallback(payload, show_cells)


def action_label(action: str) -> str:
    """The translated name of a ledger action, or the action itself when unknown."""
    declared = registry.action(action)
    label = declared.label if declared is not None else None
    return str(label) if label is not None else action
