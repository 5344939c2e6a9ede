"""Reading a manifest for review: counts by decision and status, filters, pages of entries,
and the side-by-side comparison of an entry with the registry person it may be.

(Mandela Rule 7(a): one identity per person — a possible match is judged by a person who
sees both records field by field; Mandela Rule 9: a reader is shown only the registry people
their scope reaches, through :mod:`habeas.transfers.disclosure`.)

Filtering runs on plain rows (``values_list``, no model instance per entry) and yields the
entries' ids in row order; only the page shown is read whole, with its rule outcomes. The
name search folds accents, capitals and scripts as the staff search does
(:func:`habeas.people.names.name_keys`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.db.models import Count
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from habeas.people.choices import Sex
from habeas.people.matching import PersonRecord, dob_score, fold
from habeas.people.models import Person
from habeas.people.names import name_keys
from habeas.transfers.choices import Decision, EntryStatus, Outcome
from habeas.transfers.disclosure import (
    REGISTRY_RULES,
    WITHHELD_RULE,
    entry_for_reader,
    visible_people,
)
from habeas.transfers.manifest import parse_partial_date
from habeas.transfers.models import Manifest, ManifestEntry, RuleOutcome
from habeas.transfers.selectors import entry_document, identity_rows, rule_rows

#: Entries per page of the review table.
PER_PAGE = 50

#: Words of a name search (as the staff search: more is noise, and bounded work).
MAX_QUERY_WORDS = 8


@dataclass(frozen=True)
class ReviewFilters:
    """What the reviewer asked for; empty strings mean no filter."""

    decision: str = ""
    status: str = ""
    rule: str = ""
    nationality: str = ""
    query: str = ""

    @property
    def any(self) -> bool:
        return bool(self.decision or self.status or self.rule or self.nationality or self.query)


def _split(value: Any) -> list[str]:
    """A multi-valued manifest column as stored (``"SV;US"``, or a list from JSON)."""
    if isinstance(value, list):
        return [str(v).strip().upper() for v in value if str(v).strip()]
    return [v.strip().upper() for v in str(value or "").split(";") if v.strip()]


def review_counts(manifest: Manifest) -> dict[str, int]:
    """Entries per decision (as decided at import) and per status (one query)."""
    by_status = dict(
        ManifestEntry.objects.filter(manifest=manifest)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "all": manifest.rows,
        Decision.ELIGIBLE.value: manifest.eligible,
        Decision.NEEDS_REVIEW.value: manifest.needs_review,
        Decision.INELIGIBLE.value: manifest.ineligible,
        **{s.value: int(by_status.get(s.value, 0)) for s in EntryStatus},
    }


def eligible_waiting(manifest: Manifest) -> int:
    """Eligible entries not yet accepted: what "accept all eligible" would accept."""
    return ManifestEntry.objects.filter(
        manifest=manifest, decision=Decision.ELIGIBLE, status=EntryStatus.DECIDED
    ).count()


def _rule_key(rule: str, collapse: bool) -> str:
    return WITHHELD_RULE if collapse and rule in REGISTRY_RULES else rule


def rules_not_passed(manifest: Manifest, *, collapse: bool) -> list[tuple[str, int]]:
    """Each rule that some entry did not pass, with the number of those entries, most
    frequent first. ``collapse``: rules U7 and U8 count as the one registry line, as a scoped
    reader reads them (:func:`habeas.transfers.disclosure.entry_for_reader`)."""
    entries: defaultdict[str, set[int]] = defaultdict(set)
    for rule, entry_id in (
        RuleOutcome.objects.filter(entry__manifest=manifest)
        .exclude(outcome=Outcome.PASS)
        .values_list("rule", "entry_id")
    ):
        entries[_rule_key(rule, collapse)].add(entry_id)
    return sorted(((r, len(ids)) for r, ids in entries.items()), key=lambda x: (-x[1], x[0]))


def nationalities_of(manifest: Manifest) -> list[tuple[str, int]]:
    """The nationalities the manifest gives, with their number of entries."""
    counts: Counter[str] = Counter()
    for value in ManifestEntry.objects.filter(manifest=manifest).values_list(
        "data__nationalities", flat=True
    ):
        counts.update(set(_split(value)))
    return sorted(counts.items())


def _name_matches(words: Sequence[tuple[str, tuple[str, ...]]], names: Sequence[str]) -> bool:
    """Every searched word is a word, or a word's beginning, of the names (keys folded as the
    staff search folds them), or a piece of the names as folded."""
    keys: list[str] = []
    for text in names:
        keys += name_keys(text)
    folded = fold(" ".join(names))
    for raw, wanted in words:
        if fold(raw) and fold(raw) in folded:
            continue
        if wanted and all(any(k.startswith(w) for k in keys) for w in wanted):
            continue
        return False
    return True


def filtered_ids(manifest: Manifest, filters: ReviewFilters, *, collapse: bool) -> list[int]:
    """The ids of the entries the filters keep, in row order."""
    qs = ManifestEntry.objects.filter(manifest=manifest)
    if filters.decision:
        qs = qs.filter(decision=filters.decision)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.rule:
        rules = (
            list(REGISTRY_RULES) if collapse and filters.rule == WITHHELD_RULE else [filters.rule]
        )
        if collapse and filters.rule in REGISTRY_RULES:
            rules = []  # a scoped reader has only the registry line
        qs = qs.filter(
            pk__in=RuleOutcome.objects.filter(entry__manifest=manifest, rule__in=rules)
            .exclude(outcome=Outcome.PASS)
            .values("entry_id")
        )
    if not filters.nationality and not filters.query:
        return list(qs.order_by("row").values_list("pk", flat=True))
    words = [(w, name_keys(w, query=True)) for w in filters.query.split()[:MAX_QUERY_WORDS]]
    ref_query = filters.query.strip().casefold()
    wanted_nat = filters.nationality.upper()
    kept = []
    for pk, ref, given, s1, s2, nats, aliases in qs.order_by("row").values_list(
        "pk",
        "sending_ref",
        "given_names",
        "first_surname",
        "second_surname",
        "data__nationalities",
        "data__aliases",
    ):
        if wanted_nat and wanted_nat not in _split(nats):
            continue
        if words and not (
            ref_query in ref.casefold()
            or _name_matches(words, [given, s1, s2, *_split_aliases(aliases)])
        ):
            continue
        kept.append(pk)
    return kept


def _split_aliases(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [a for a in str(value or "").split(";") if a.strip()]


def _words(rule: str) -> dict[str, str]:
    from habeas.transfers.rule_text import rule_words

    return {k: str(v) for k, v in rule_words(rule).items()}


def _document(
    entry: ManifestEntry, rules: list[dict[str, str]], judged: list[dict[str, Any]]
) -> dict[str, Any]:
    """:func:`habeas.transfers.selectors.entry_document` from an entry and its outcomes read
    as rows."""
    return {
        "row": entry.row,
        "sending_ref": entry.sending_ref,
        "decision": entry.decision,
        "decided_on": entry.decided_on.isoformat(),
        "status": entry.status,
        "person": str(entry.person_id) if entry.person_id else None,
        "matched_existing": entry.matched_existing,
        "candidates": entry.candidates,
        "identity_decisions": judged,
        "rules": rules,
    }


def _rules_html(rules: list[dict[str, Any]], spanish: bool) -> str:
    """An entry's rules as list items, every value escaped (``html.escape``): built here, not
    in a template loop or with ``format_html`` per rule — twelve-odd rules times fifty entries
    was most of the page's time."""
    out = []
    for r in rules:
        message = r["message_es"] if spanish and r["message_es"] else r["message"]
        out.append(
            f'<li class="rule-list__item rule-list__item--{escape(r["outcome"])}">'
            f"<strong>{escape(r['name'])}</strong> · {escape(r['label'])}<br>{escape(message)}"
            f'<br><span class="muted">{escape(r["citation"] or r["source"])}</span></li>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def page_entries(ids: Sequence[int], user: Any) -> list[ManifestEntry]:
    """The entries of one page, in row order, each with ``shown``: its document as ``user``
    may read it (:func:`habeas.transfers.disclosure.entry_for_reader`), and ``failed`` /
    ``to_review``: the rules it did not pass."""
    entries = list(
        ManifestEntry.objects.filter(pk__in=list(ids))
        .select_related("episode__admission_record")
        .order_by("row")
    )
    # The outcomes as plain rows (no model instance for each of the page's ~600 rules).
    rules = rule_rows([e.pk for e in entries])
    judged = identity_rows([e.pk for e in entries])
    docs = [_document(e, rules[e.pk], judged[e.pk]) for e in entries]
    visible = visible_people(user, docs)
    spanish = (get_language() or "en").startswith("es")
    # Each rule's words translated once per page, not once per entry (lazy text costs a
    # translation lookup each time it is read).
    labels: dict[str, str] = {}
    words: dict[str, dict[str, str]] = {}
    for entry, doc in zip(entries, docs, strict=True):
        shown = entry_for_reader(doc, visible)
        for rule in shown["rules"]:
            rule["label"] = labels.get(rule["outcome"]) or labels.setdefault(
                rule["outcome"], str(Outcome(rule["outcome"]).label)
            )
            rule.update(
                words.get(rule["rule"]) or words.setdefault(rule["rule"], _words(rule["rule"]))
            )
        entry.shown = shown
        # Built here, escaped, not in a template loop: twelve-odd rules times fifty entries
        # was most of the page's time.
        entry.rules_html = _rules_html(shown["rules"], spanish)
        entry.failed = [r for r in shown["rules"] if r["outcome"] == Outcome.FAIL]
        entry.to_review = [r for r in shown["rules"] if r["outcome"] == Outcome.REVIEW]
        entry.judged_same = [d for d in shown["identity_decisions"] if d["decision"] == "same"]
        entry.dismissed = [d for d in shown["identity_decisions"] if d["decision"] != "same"]
    return entries


# --- the comparison of a possible match ----------------------------------------------------

SAME = "same"
FOLDED = "folded"
SIMILAR = "similar"
DIFFERS = "differs"
UNKNOWN = "unknown"

AGREEMENT_LABELS = {
    SAME: _("same"),
    FOLDED: _("same, written differently"),
    SIMILAR: _("similar"),
    DIFFERS: _("differs"),
    UNKNOWN: _("not known on both sides"),
}

#: A name field at least this similar (the matcher's word similarity) reads "similar".
SIMILAR_NAME = 0.85
#: A date of birth scored at least this by the matcher reads "similar" (a swapped day and
#: month, a date kept to the month).
SIMILAR_DATE = 0.8


@dataclass
class FieldRow:
    """One aligned line of the comparison."""

    label: Any
    entry: str
    person: str
    agreement: str

    @property
    def agreement_label(self) -> Any:
        return AGREEMENT_LABELS[self.agreement]

    @property
    def differs(self) -> bool:
        return self.agreement in {DIFFERS, SIMILAR}


@dataclass
class Comparison:
    """An entry beside one registry person (the matcher's score and reasons as decided)."""

    person: Person
    rows: list[FieldRow] = field(default_factory=list)
    score: float | None = None
    band: str = ""
    reasons: list[str] = field(default_factory=list)


def _name_agreement(a: str, b: str) -> str:
    from rapidfuzz.distance import JaroWinkler

    if not a.strip() and not b.strip():
        return SAME
    if not a.strip() or not b.strip():
        return UNKNOWN
    if a == b:
        return SAME
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return FOLDED
    return SIMILAR if JaroWinkler.normalized_similarity(fa, fb) >= SIMILAR_NAME else DIFFERS


def _set_agreement(a: Sequence[str], b: Sequence[str]) -> str:
    sa, sb = {x.upper() for x in a}, {x.upper() for x in b}
    if not sa or not sb:
        return SAME if sa == sb else UNKNOWN
    if sa == sb:
        return SAME
    return SIMILAR if sa & sb else DIFFERS


def compare(entry: ManifestEntry, person: Person, sending: str) -> Comparison:
    """The entry's fields beside the person's, each with its agreement: names compared as
    written, then folded (accents, capitals, scripts), then by the matcher's word similarity;
    the date of birth by the matcher's date score (a partial date agrees at the precision both
    know); nationalities and aliases as sets; the sending state's reference against the
    person's identifiers."""
    data = entry.data or {}
    rows = [
        FieldRow(
            _("Given names"),
            entry.given_names,
            person.given_names,
            _name_agreement(entry.given_names, person.given_names),
        ),
        FieldRow(
            _("First surname"),
            entry.first_surname,
            person.first_surname,
            _name_agreement(entry.first_surname, person.first_surname),
        ),
        FieldRow(
            _("Second surname"),
            entry.second_surname,
            person.second_surname,
            _name_agreement(entry.second_surname, person.second_surname),
        ),
    ]
    aliases = _split_aliases(data.get("aliases"))
    rows.append(
        FieldRow(
            _("Aliases"),
            "; ".join(aliases),
            "; ".join(person.aliases or []),
            _set_agreement([fold(a) for a in aliases], [fold(a) for a in person.aliases or []]),
        )
    )
    dob: dt.date | None = None
    precision = "day"
    with contextlib.suppress(ValueError):
        dob, precision = parse_partial_date(str(data.get("date_of_birth", "")))
    theirs = PersonRecord(
        ref="", given_names="", first_surname="", date_of_birth=dob, dob_precision=precision
    )
    ours = PersonRecord(
        ref="",
        given_names="",
        first_surname="",
        date_of_birth=person.date_of_birth,
        dob_precision=person.dob_precision,
    )
    d = dob_score(theirs, ours)
    rows.append(
        FieldRow(
            _("Date of birth"),
            str(data.get("date_of_birth", "")),
            person.date_of_birth_display,
            UNKNOWN
            if d is None
            else SAME
            if d >= 1.0 or (d >= 0.9 and precision == person.dob_precision)
            else SIMILAR
            if d >= SIMILAR_DATE
            else DIFFERS,
        )
    )
    sex = str(data.get("sex", "")).strip().upper()
    sexes = dict(Sex.choices)
    rows.append(
        FieldRow(
            _("Sex"),
            str(sexes.get(sex, sex)),
            str(sexes.get(person.sex, person.sex)),
            UNKNOWN if not sex or not person.sex else SAME if sex == person.sex else DIFFERS,
        )
    )
    nats = _split(data.get("nationalities"))
    rows.append(
        FieldRow(
            _("Nationalities"),
            ", ".join(nats),
            ", ".join(person.nationalities or []),
            _set_agreement(nats, person.nationalities or []),
        )
    )
    idents = [(i.authority, i.value) for i in person.identifiers.all()]
    mine = (sending, entry.sending_ref)
    same_authority = [v for a, v in idents if a == sending]
    rows.append(
        FieldRow(
            _("Identifiers"),
            f"{sending} {entry.sending_ref}",
            "; ".join(f"{a} {v}" for a, v in idents),
            SAME if mine in idents else DIFFERS if same_authority else UNKNOWN,
        )
    )
    return Comparison(person=person, rows=rows)


def comparison_for(
    entry: ManifestEntry, user: Any, person_id: str = "", dismissed: frozenset[int] = frozenset()
) -> tuple[Comparison | None, list[dict[str, Any]]]:
    """The comparison of ``entry`` with the registry person ``person_id`` (by default its
    best candidate) among those ``user`` may see, and those candidates, less the ``dismissed``
    (judged a different person). ``None`` when the reader may see no candidate: the same page
    as an entry with no match (Mandela Rule 9)."""
    doc = entry_document(entry)
    shown = entry_for_reader(doc, visible_people(user, [doc]))
    candidates = list(shown["candidates"])
    if shown["person"] and all(str(c["person"]) != str(shown["person"]) for c in candidates):
        candidates.insert(
            0,
            {"person": shown["person"], "score": entry.match_score, "band": "same", "reasons": []},
        )
    # A candidate judged a different person is not offered again (transfers.identity).
    candidates = [c for c in candidates if int(c["person"]) not in dismissed]
    if not candidates:
        return None, []
    chosen = next((c for c in candidates if str(c["person"]) == person_id), candidates[0])
    person = Person.objects.filter(pk=int(chosen["person"])).prefetch_related("identifiers").first()
    if person is None:
        return None, []
    result = compare(entry, person, entry.manifest.agreement.sending.code)
    result.score = chosen.get("score")
    result.band = str(chosen.get("band") or "")
    result.reasons = [str(r) for r in chosen.get("reasons") or []]
    return result, candidates
