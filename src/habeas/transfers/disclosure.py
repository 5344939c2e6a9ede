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
#: The one line that stands for rules U7 and U8 when their words are withheld.
WITHHELD_RULE = "registry"
WITHHELD_SOURCE = "Mandela Rule 7(a): one identity, one custody"
_SEVERITY = {"pass": 0, "review": 1, "fail": 2}


def _bilingual(message: Any) -> tuple[str, str]:
    with translation.override("en"):
        en = str(message)
    with translation.override("es"):
        es = str(message)
    return en, es


def _ids(doc: dict[str, Any]) -> set[int]:
    found = {int(c["person"]) for c in doc.get("candidates") or [] if c.get("person")}
    found |= {int(d["person"]) for d in doc.get("identity_decisions") or []}
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
    the matched person outside ``visible`` are dropped (and the judgements about them), and
    when the best match is a person the reader may not see (or, for a scoped reader, there is
    no match: the two must look the same) rules U7 and U8 become one line that reveals nothing
    (:func:`_collapsed`).
    ``visible`` ``None``: the reader sees everything, as stored."""
    if visible is None:
        return doc
    candidates = doc.get("candidates") or []
    top = int(candidates[0]["person"]) if candidates and candidates[0].get("person") else None
    withheld = top is None or top not in visible
    person = doc.get("person")
    person_hidden = person is not None and int(person) not in visible
    rules = _collapsed(doc.get("rules") or []) if withheld else list(doc.get("rules") or [])
    judged = {}
    if "identity_decisions" in doc:
        judged["identity_decisions"] = [
            d for d in doc["identity_decisions"] or [] if int(d["person"]) in visible
        ]
    return {
        **doc,
        **judged,
        "person": None if person_hidden else person,
        "matched_existing": False if person_hidden else doc.get("matched_existing", False),
        "candidates": [c for c in candidates if int(c["person"]) in visible],
        "rules": rules,
    }


def _collapsed(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules U7 and U8 as one line, :data:`WITHHELD_RULE`, in U7's place: its outcome is the
    worse of theirs (the entry still says it cannot be accepted), its words reveal nothing, and
    a reader cannot tell "in custody" from "possibly the same person" from no match at all."""
    registry = [r for r in rules if r["rule"] in REGISTRY_RULES]
    if not registry:
        return list(rules)
    outcome = max((r["outcome"] for r in registry), key=_SEVERITY.__getitem__)
    en, es = _bilingual(MSG_WITHHELD_PASS if outcome == "pass" else MSG_WITHHELD_REVIEW)
    line = {
        "rule": WITHHELD_RULE,
        "outcome": outcome,
        "message": en,
        "message_es": es,
        "source": WITHHELD_SOURCE,
    }
    out: list[dict[str, Any]] = []
    for rule in rules:
        if rule["rule"] not in REGISTRY_RULES:
            out.append(rule)
        elif line not in out:
            out.append(line)
    return out


def report_for(user: Any, report: dict[str, Any]) -> dict[str, Any]:
    """The ``import-manifest --report`` document as ``user`` may see it."""
    entries = report.get("entries") or []
    visible = visible_people(user, entries)
    if visible is None:
        return report
    return {**report, "entries": [entry_for_reader(e, visible) for e in entries]}
