"""Stored release-date calculations (STANDARDS.md, Sentences; HMPPS calculate-release-dates):
each is kept with its inputs and rule-set version, and a new one is made when an input
changes (a sentence amended or vacated, credit forfeited or restored, the agreement's rule set,
a transfer to a facility in another country). The arithmetic is :mod:`habeas.custody.release`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.services import service
from habeas.custody.choices import BasisStatus, LegalBasisKind
from habeas.custody.models import CustodyEpisode, ReleaseCalculation
from habeas.custody.release import VERSIONS, BasisInput, Calculation, calculate, inputs_sha
from habeas.ledger.services import Event, ledger_append_many

CHUNK = 5000


def calculation_snapshot(c: ReleaseCalculation, person: int) -> dict[str, Any]:
    return {
        "id": c.pk,
        "episode": c.episode_id,
        "person": person,
        "rule_set": c.rule_set,
        "version": c.version,
        "inputs": c.inputs,
        "inputs_sha": c.inputs_sha,
        "release_date": c.release_date,
        "full_term": c.full_term,
        "working": c.working,
        "calculated_at": c.calculated_at,
    }


def calculations_for(episode_ids: Sequence[int] | None) -> dict[int, tuple[int, _Pending]]:
    """Episode id → (person id, the calculation its inputs give now), for the episodes that
    have a criminal sentence (live or not: a vacated sentence leaves a calculation with none);
    ``None``: every open episode. Read in a few queries, no model objects."""
    result: dict[int, tuple[int, _Pending]] = {}
    through = CustodyEpisode.legal_bases.through
    criminal = str(LegalBasisKind.CRIMINAL_SENTENCE)
    if episode_ids is None:
        groups: list[tuple[Any, Any]] = [
            (
                CustodyEpisode.objects.filter(released_at__isnull=True),
                through.objects.filter(custodyepisode__released_at__isnull=True),
            )
        ]
    else:
        ids_all = list(episode_ids)
        groups = [
            (
                CustodyEpisode.objects.filter(pk__in=ids_all[i : i + CHUNK]),
                through.objects.filter(custodyepisode_id__in=ids_all[i : i + CHUNK]),
            )
            for i in range(0, len(ids_all), CHUNK)
        ]
    for episodes, links in groups:
        meta = {
            pk: (person, rules or "plain", country)
            for pk, person, rules, country in episodes.values_list(
                "pk", "person_id", "agreement__sentence_rules", "facility__jurisdiction__code"
            ).iterator(chunk_size=CHUNK)
        }
        bases: dict[int, list[BasisInput]] = defaultdict(list)
        has_sentence: set[int] = set()
        rows = links.filter(legalbasis__kind=criminal).values_list(
            "custodyepisode_id",
            "legalbasis_id",
            "legalbasis__status",
            "legalbasis__sentence",
            "legalbasis__sentence_start",
            "legalbasis__custody_credit_days",
            "legalbasis__credit_forfeited_days",
        )
        for ep, basis, status, sentence, start, credit, forfeited in rows.iterator(
            chunk_size=CHUNK
        ):
            has_sentence.add(ep)
            if status != BasisStatus.ACTIVE or not sentence or start is None:
                continue
            bases[ep].append(BasisInput(basis, sentence, start, credit or 0, forfeited or 0))
        for ep in sorted(has_sentence):
            person, rules, country = meta[ep]
            result[ep] = (person, _Pending(rules, country or "", bases.get(ep, [])))
    return result


class _Pending:
    """A calculation's inputs, calculated only when asked (most inputs have not changed)."""

    __slots__ = ("bases", "country", "rules")

    def __init__(self, rules: str, country: str, bases: list[BasisInput]) -> None:
        self.rules, self.country, self.bases = rules, country, bases

    def inputs(self) -> dict[str, Any]:
        """What :meth:`Calculation.inputs` gives, built directly (read for every open episode
        by every check)."""
        return {
            "rule_set": self.rules,
            "version": VERSIONS.get(self.rules, self.rules),
            "country": self.country.upper(),
            "sentences": [
                {
                    "basis": b.basis,
                    "sentence": b.sentence,
                    "sentence_start": b.sentence_start.isoformat(),
                    "credit_days": b.credit_days,
                    "forfeited_days": b.forfeited_days,
                }
                for b in sorted(self.bases, key=lambda b: b.basis)
            ],
        }

    def calculate(self) -> Calculation:
        return calculate(self.rules, self.country, self.bases)


def _latest(episode_ids: Iterable[int] | None) -> dict[int, tuple[str, dt.date | None]]:
    """Episode → (inputs_sha, release_date) of its current calculation (``None``: of every
    open episode)."""
    found: dict[int, tuple[str, dt.date | None]] = {}
    if episode_ids is None:
        queries = [ReleaseCalculation.objects.filter(episode__released_at__isnull=True)]
    else:
        ids = list(episode_ids)
        queries = [
            ReleaseCalculation.objects.filter(episode_id__in=ids[i : i + CHUNK])
            for i in range(0, len(ids), CHUNK)
        ]
    for qs in queries:
        rows = qs.order_by("episode_id", "-pk").values_list(
            "episode_id", "inputs_sha", "release_date"
        )
        for ep, sha, release in rows.iterator(chunk_size=CHUNK):
            found.setdefault(ep, (sha, release))
    return found


@service
def release_recalculate(
    *,
    actor: Actor,
    episode_ids: Sequence[int] | None,
    at: dt.datetime | None = None,
    append: bool = True,
) -> list[ReleaseCalculation]:
    """Calculate the release date of each episode whose inputs changed since its current
    calculation (or that has none); one ``custody.release_calculated`` entry each, carrying
    the inputs, the version, the working and the previous date (with ``append`` false the
    caller's own entry carries them: an admission). Equal inputs write nothing: safe to run
    again and again (``check-custody``)."""
    when = at or now()
    wanted = None if episode_ids is None else sorted(set(episode_ids))
    computed = calculations_for(wanted)
    latest = _latest(wanted)
    made: list[tuple[int, ReleaseCalculation, dt.date | None, bool]] = []
    for ep, (person, pending) in computed.items():
        inputs = pending.inputs()
        sha = inputs_sha(inputs)
        previous = latest.get(ep)
        if previous is not None and previous[0] == sha:
            continue
        calc = pending.calculate()
        row = ReleaseCalculation(
            episode_id=ep,
            rule_set=calc.rule_set,
            version=calc.version,
            inputs=inputs,
            inputs_sha=sha,
            release_date=calc.release_date,
            full_term=calc.full_term,
            working=calc.working(),
            calculated_at=when,
        )
        made.append((person, row, previous[1] if previous else None, previous is not None))
    if not made:
        return []
    rows = ReleaseCalculation.objects.bulk_create([m[1] for m in made], batch_size=500)
    if not append:  # the caller's own entry carries each calculation (an admission)
        return rows
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.release_calculated",
                subject=f"person:{person}",
                occurred_at=when,
                payload={
                    "calculation": calculation_snapshot(row, person),
                    "previous_release_date": previous,
                    "recalculated": again,
                },
            )
            for (person, _r, previous, again), row in zip(made, rows, strict=True)
        ],
    )
    return rows


def current_calculation(episode: CustodyEpisode) -> ReleaseCalculation | None:
    return ReleaseCalculation.objects.filter(episode=episode).order_by("-pk").first()


def working_lines(calc: ReleaseCalculation) -> list[dict[str, Any]]:
    """The working of a calculation in words, sentence by sentence (the person page)."""
    from django.utils.translation import gettext as _

    out: list[dict[str, Any]] = []
    for result in calc.working:
        lines: list[str] = []
        for step in result["steps"]:
            v = step["values"]
            rule = step["rule"]
            if rule == "life":
                lines.append(_("Life sentence: no release date, no good conduct time."))
            elif rule == "full_term":
                lines.append(
                    _("Full term: %(start)s + %(sentence)s = %(date)s")
                    % {"start": v["start"], "sentence": v["sentence"], "date": v["date"]}
                )
            elif rule == "prior_custody_credit":
                lines.append(
                    _("Less %(days)s days of prior custody credit = %(date)s")
                    % {"days": v["days"], "date": v["date"]}
                )
            elif rule == "good_conduct_time":
                if not v["eligible"]:
                    lines.append(_("No good conduct time: the sentence is not more than one year."))
                else:
                    lines.append(
                        _(
                            "Less %(applied)s days of good conduct time (%(earned)s earned, "
                            "%(forfeited)s forfeited) = %(date)s"
                        )
                        % v
                    )
            elif rule == "weekend_or_holiday":
                for skip in v["skipped"]:
                    why = {
                        "saturday": _("a Saturday"),
                        "sunday": _("a Sunday"),
                        "holiday": _("a holiday at the place of confinement (%(name)s)")
                        % {"name": skip.get("name", "")},
                    }[skip["why"]]
                    lines.append(
                        _("%(day)s is %(why)s: one day earlier") % {"day": skip["day"], "why": why}
                    )
                lines.append(_("Release date: %(date)s") % {"date": v["date"]})
            if step.get("citation"):
                lines[-1] += f" ({step['citation']})"
        out.append(
            {"basis": result["basis"], "lines": lines, "release_date": result["release_date"]}
        )
    return out
