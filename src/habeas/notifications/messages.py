"""What a notice says, in the recipient's language where a template exists (English and
Spanish): the facts a family, a consulate or a sending state needs (Mandela Rules 68-69:
where the person is held, since when, released when and where to), never a cell."""

from __future__ import annotations

import json
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from habeas.core.canonical import plain


def _subject(event: str) -> str:
    """The subject's text in the active language, ``%(name)s`` still in it."""
    subjects = {
        "admission": _("%(name)s has been admitted to custody"),
        "transfer": _("%(name)s has been transferred"),
        "release": _("%(name)s has been released"),
        "death": _("Death in custody: %(name)s"),
        "release_date_changed": _("The release date of %(name)s has changed"),
        "release_due": _("%(name)s is due to be released within 14 days"),
    }
    return subjects[event]


def _lines(event: str, facility: str, facts: dict[str, Any]) -> list[str]:
    lines = [_("Facility: %(facility)s") % {"facility": facility}]
    if facts.get("at"):
        lines.append(_("Date and time: %(at)s") % {"at": facts["at"]})
    if facts.get("release_date"):
        lines.append(_("Projected release date: %(date)s") % {"date": facts["release_date"]})
    if facts.get("previous_release_date"):
        lines.append(
            _("Previous release date: %(date)s") % {"date": facts["previous_release_date"]}
        )
    if facts.get("destination"):
        lines.append(_("Destination: %(country)s") % {"country": facts["destination"]})
    if facts.get("reason"):
        lines.append(_("Reason: %(reason)s") % {"reason": facts["reason"]})
    if event == "death":
        lines.append(_("The independent authority has been informed (Mandela Rules 69 and 71)."))
    return lines


class Renderer:
    """Renders the notices of one queueing: the translated text of each (event, language,
    facility, facts) is built once and only the name and the reference differ between
    notices (3,000 release-due notices are one text in each language)."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, ...], tuple[str, str, str]] = {}

    def __call__(
        self, event: str, *, name: str, facility: str, facts: dict[str, Any], language: str,
        key: str,
    ) -> tuple[str, str]:  # fmt: skip
        lang = language if language in ("en", "es") else "en"
        shown = plain(facts)
        cache_key = (event, lang, facility, json.dumps(shown, sort_keys=True, default=str))
        parts = self._parts.get(cache_key)
        if parts is None:
            with translation.override(lang):
                parts = (
                    _subject(event),
                    "\n".join(_lines(event, facility, shown)),
                    _("Reference: %(key)s"),
                )
            self._parts[cache_key] = parts
        subject = parts[0] % {"name": name}
        return subject, "\n".join([subject, "", parts[1]]) + "\n\n" + parts[2] % {"key": key}


def full_name(person: Any) -> str:
    return " ".join(
        p for p in (person.given_names, person.first_surname, person.second_surname) if p
    )


def render(
    event: str, episode: Any, facts: dict[str, Any], language: str, *, key: str
) -> tuple[str, str]:
    """(subject, body). The body is text for e-mail; a webhook receives the JSON document
    built from the same facts (:func:`document`)."""
    return Renderer()(
        event,
        name=full_name(episode.person),
        facility=episode.facility.name,
        facts=facts,
        language=language,
        key=key,
    )


def document(delivery: Any) -> bytes:
    """The webhook body: the event, the idempotency key, the person and the text."""
    return json.dumps(
        plain(
            {
                "key": delivery.key,
                "event": delivery.event,
                "person": str(delivery.person_id),
                "episode": str(delivery.episode_id),
                "audience": delivery.audience,
                "language": delivery.language,
                "subject": delivery.subject,
                "text": delivery.body,
                "queued_at": delivery.queued_at,
            }
        ),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
