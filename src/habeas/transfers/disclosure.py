"""What a reader may learn from a manifest's decisions (Mandela Rule 9, need to know;
ARCHITECTURE.md users: a sending state's liaison sees only their own transferees, never a hint
of anyone else).

An entry's identity match (rules U7 and U8, the candidates, the matched person) is decided
against the whole registry and stored as decided, for the receiving state and oversight. Every
reader is then shown it through the same rule as persons (``Person.objects.visible_to``): a
registry person outside the reader's scope is never named, counted or hinted at. The entry
still says it cannot be accepted, in words that reveal nothing; the receiving facility's staff
(who see the person) and oversight read the real reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy

from habeas.accounts.permissions import sees_everything
from habeas.people.models import Person

#: The rules whose words name a registry person (Mandela Rule 7(a): one identity, one custody).
REGISTRY_RULES = frozenset({"U7", "U8"})

#: Shown instead of a registry rule's words to a reader who may not see the person.
MSG_WITHHELD_REVIEW = gettext_lazy(
    "cannot be accepted as it stands: the receiving state's staff must review this entry"
)
MSG_WITHHELD_PASS = gettext_lazy("checked against the registry")


def _bilingual(message: Any) -> tuple[str, str]:
    with translation.override("en"):
        en = str(message)
    with translation.override("es"):
        es = str(message)
    return en, es


def _ids(doc: dict[str, Any]) -> set[int]:
    found = {int(c["person"]) for c in doc.get("candidates") or [] if c.get("person")}
    if doc.get("person"):
        found.add(int(doc["person"]))
    return found


def visible_people(user: Any, docs: Iterable[dict[str, Any]]) -> set[int] | None:
    """The registry people named by ``docs`` that ``user`` may see (one query); ``None`` for
    a reader who sees everyone."""
    if sees_everything(user):
        return None
    wanted: set[int] = set()
    for doc in docs:
        wanted |= _ids(doc)
    if not wanted:
        return set()
    return set(Person.objects.visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True))


def entry_for_reader(doc: dict[str, Any], visible: set[int] | None) -> dict[str, Any]:
    """An entry document (``selectors.entry_document``) as a reader may see it: candidates and
    the matched person outside ``visible`` are dropped, and the registry rules' words about a
    person the reader may not see (or, for a scoped reader, about nobody) are replaced by words
    that reveal nothing. ``visible`` ``None``: the reader sees everything, as stored."""
    if visible is None:
        return doc
    candidates = doc.get("candidates") or []
    top = int(candidates[0]["person"]) if candidates and candidates[0].get("person") else None
    withheld = top is None or top not in visible
    person = doc.get("person")
    person_hidden = person is not None and int(person) not in visible
    rules = []
    for rule in doc.get("rules") or []:
        if rule["rule"] in REGISTRY_RULES and withheld and _names_someone(rule, top):
            message = MSG_WITHHELD_PASS if rule["outcome"] == "pass" else MSG_WITHHELD_REVIEW
            en, es = _bilingual(message)
            rule = {**rule, "message": en, "message_es": es}
        rules.append(rule)
    return {
        **doc,
        "person": None if person_hidden else person,
        "matched_existing": False if person_hidden else doc.get("matched_existing", False),
        "candidates": [c for c in candidates if int(c["person"]) in visible],
        "rules": rules,
    }


def _names_someone(rule: dict[str, Any], top: int | None) -> bool:
    """A registry rule speaks of a person when it did not pass, or when it passed on a match
    (U8 "the same person as ..."); "not in the registry yet" is replaced too, so that a scoped
    reader cannot tell a hidden match from no match. U7's pass ("not in custody") names no
    one."""
    if rule["outcome"] != "pass":
        return True
    return rule["rule"] == "U8"


def report_for(user: Any, report: dict[str, Any]) -> dict[str, Any]:
    """The ``import-manifest --report`` document as ``user`` may see it."""
    entries = report.get("entries") or []
    visible = visible_people(user, entries)
    if visible is None:
        return report
    return {**report, "entries": [entry_for_reader(e, visible) for e in entries]}
