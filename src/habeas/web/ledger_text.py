"""Human summaries of ledger entries for the person's history (Mandela Rule 7(c): the day
and hour of admission, release and every transfer, read back from the ledger itself).

Summaries are plain text built from the entry's payload; templates escape them like any other
value, so a name written as ``<script>`` by a sending state stays text. Cell codes are left
out for roles that may not see where inside a prison someone is held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.custody.choices import AbsenceKind, LegalBasisKind, ReleaseReason
from habeas.ledger.models import LedgerEntry

Summariser = Callable[[dict[str, Any], bool], str]

#: Names of the ledger actions shown in the history (``<app>.<past-tense verb>``).
ACTION_LABELS: dict[str, Any] = {
    "people.created": pgettext_lazy("ledger action", "Person registered"),
    "custody.admitted": pgettext_lazy("ledger action", "Admitted"),
    "placement.moved": pgettext_lazy("ledger action", "Cell move"),
    "custody.released": pgettext_lazy("ledger action", "Released"),
    "people.identifier_added": pgettext_lazy("ledger action", "Identifier added"),
    "transfers.admission_recorded": pgettext_lazy("ledger action", "Admission record"),
    "transfers.notification_queued": pgettext_lazy("ledger action", "Notification queued"),
    "custody.absence_started": pgettext_lazy("ledger action", "Left the facility"),
    "custody.absence_ended": pgettext_lazy("ledger action", "Returned to the facility"),
    "conditions.alert_acknowledged": pgettext_lazy("ledger action", "Alert acknowledged"),
}

#: What sending-state liaisons and finance officers see of a person's history: their
#: identity and custody, never the admission record (injuries, family: Mandela Rule 9) nor
#: notifications to relatives.
TOTALS_ONLY_ACTIONS = frozenset(
    {
        "people.created",
        "people.identifier_added",
        "custody.admitted",
        "placement.moved",
        "custody.released",
    }
)

#: How much of an unknown payload is shown before it is cut.
FALLBACK_LIMIT = 200


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _people_created(payload: dict[str, Any], show_cells: bool) -> str:
    payload = payload.get("person") or payload
    names = " ".join(
        str(payload.get(k) or "") for k in ("given_names", "first_surname", "second_surname")
    ).strip()
    refs = ", ".join(
        f"{i.get('authority', '')} {i.get('value', '')}".strip()
        for i in payload.get("identifiers") or []
    )
    text = _("Registered as %(name)s") % {"name": names}
    if payload.get("nationalities"):
        text += "; " + _("nationality %(codes)s") % {"codes": ", ".join(payload["nationalities"])}
    if refs:
        text += "; " + _("identifiers %(refs)s") % {"refs": refs}
    return text


def _custody_admitted(payload: dict[str, Any], show_cells: bool) -> str:
    episode = payload.get("episode") or {}
    kinds = ", ".join(
        _label(LegalBasisKind, b.get("kind")) for b in payload.get("legal_bases") or []
    )
    if episode.get("agreement"):
        text = _("Admitted to %(facility)s under agreement %(agreement)s") % {
            "facility": episode.get("facility", ""),
            "agreement": episode["agreement"],
        }
    else:
        text = _("Admitted to %(facility)s") % {"facility": episode.get("facility", "")}
    if kinds:
        text += "; " + _("legal basis: %(kinds)s") % {"kinds": kinds}
    placement = payload.get("placement") or {}
    if show_cells and placement.get("cell"):
        text += "; " + _("placed in cell %(cell)s") % {"cell": placement["cell"]}
    return text


def _placement_moved(payload: dict[str, Any], show_cells: bool) -> str:
    placement = payload.get("placement") or {}
    reason = placement.get("reason") or ""
    if not show_cells:
        text = _("Moved to another cell")
    else:
        ended = payload.get("ended") or {}
        if ended.get("cell"):
            text = _("Moved from cell %(old)s to cell %(new)s") % {
                "old": ended["cell"],
                "new": placement.get("cell", ""),
            }
        else:
            text = _("Placed in cell %(new)s") % {"new": placement.get("cell", "")}
    if reason:
        text += "; " + _("reason: %(reason)s") % {"reason": reason}
    return text


def _identifier_added(payload: dict[str, Any], show_cells: bool) -> str:
    ident = payload.get("identifier") or {}
    return _("Identifier %(authority)s %(value)s added") % {
        "authority": ident.get("authority", ""),
        "value": ident.get("value", ""),
    }


def _custody_released(payload: dict[str, Any], show_cells: bool) -> str:
    episode = payload.get("episode") or {}
    text = _("Released: %(reason)s") % {"reason": _label(ReleaseReason, episode.get("reason"))}
    if episode.get("destination"):
        text += "; " + _("destination %(country)s") % {"country": episode["destination"]}
    if episode.get("note"):
        text += "; " + str(episode["note"])
    if payload.get("absence_ended"):
        text += "; " + _("while out of the facility: the absence ends with the release")
    return text


def _absence_started(payload: dict[str, Any], show_cells: bool) -> str:
    """Mandela Rule 7(c): where to, on whose authority, with which escort."""
    absence = payload.get("absence") or {}
    kind = absence.get("kind_other") or _label(AbsenceKind, absence.get("kind"))
    text = _("Left the facility: %(kind)s, to %(destination)s") % {
        "kind": kind,
        "destination": absence.get("destination", ""),
    }
    if absence.get("authority"):
        text += "; " + _("authority: %(authority)s") % {"authority": absence["authority"]}
    text += "; " + (
        _("escort: %(escort)s") % {"escort": absence["escort"]}
        if absence.get("escort")
        else _("unescorted")
    )
    return text


def _absence_ended(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Returned to the facility")


SUMMARISERS: dict[str, Summariser] = {
    "people.created": _people_created,
    "custody.admitted": _custody_admitted,
    "placement.moved": _placement_moved,
    "custody.released": _custody_released,
    "people.identifier_added": _identifier_added,
    "custody.absence_started": _absence_started,
    "custody.absence_ended": _absence_ended,
}

_CELL_KEYS = {"cell", "cells", "placement", "ended", "placement_ended"}


def _fallback(payload: dict[str, Any], show_cells: bool) -> str:
    """Actions without a summariser (added by later apps): the payload's scalar fields, one
    level of nesting flattened (``record.language: es``), cut at ``FALLBACK_LIMIT``."""
    parts: list[str] = []
    for key in sorted(payload):
        value = payload[key]
        if not show_cells and key in _CELL_KEYS:
            continue
        if isinstance(value, dict):
            for sub in sorted(value):
                inner = value[sub]
                if isinstance(inner, dict | list) or inner in (None, ""):
                    continue
                if not show_cells and sub in _CELL_KEYS:
                    continue
                parts.append(f"{key}.{sub}: {inner}")
        elif not isinstance(value, list) and value not in (None, ""):
            parts.append(f"{key}: {value}")
    text = "; ".join(parts)
    if len(text) > FALLBACK_LIMIT:
        text = text[: FALLBACK_LIMIT - 1] + "…"
    return text


def visible_in_history(action: str, *, show_cells: bool) -> bool:
    """Whether a role sees this entry in a person's history (see ``TOTALS_ONLY_ACTIONS``)."""
    return show_cells or action in TOTALS_ONLY_ACTIONS


def entry_summary(entry: LedgerEntry, *, show_cells: bool) -> str:
    """One line describing what ``entry`` records."""
    try:
        payload = entry.payload
    except (ValueError, KeyError, TypeError):
        return _("(payload unreadable)")
    if not isinstance(payload, dict):
        return ""
    summariser = SUMMARISERS.get(entry.action, _fallback)
    try:
        return summariser(payload, show_cells)
    except (AttributeError, TypeError, KeyError):
        return _fallback(payload, show_cells)


def action_label(action: str) -> str:
    """The translated name of a ledger action, or the action itself when unknown."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
