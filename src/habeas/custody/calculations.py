"""Stored release-date calculations (STANDARDS.md, Sentences; HMPPS calculate-release-dates):
each is kept with its inputs and rule-set version, and a new one is made when an input
changes (a sentence amended or vacated, credit forfeited or restored, the agreement's rule set,
a transfer to a facility in another country). The arithmetic is :mod:`habeas.custody.release`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

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


def date_text(column: str) -> str:
    """SQL for a date column read as ``YYYY-MM-DD`` text on either database: read for every
    open episode by every check, compared as text (ISO dates sort as dates) and parsed only
    where a date is needed."""
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    return f"CAST({column} AS TEXT)"  # an expression: no declared type, no conversion


def day_text(column: str) -> str:
    """SQL for the UTC day of a timestamp column, as ``YYYY-MM-DD`` text."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"


def open_rows(sql: str, episode_column: str, episode_ids: Sequence[int] | None) -> Iterator[Any]:
    """Rows of ``sql`` (a SELECT joining the episode as ``e``, its WHERE clause left open)
    for every open episode (``None``) or for the given episodes, a chunk of ids at a time."""
    with connection.cursor() as cursor:
        if episode_ids is None:
            cursor.execute(sql + " AND e.released_at IS NULL")
            while rows := cursor.fetchmany(CHUNK):
                yield from rows
            return
        ids = list(episode_ids)
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(sql + f" AND {episode_column} IN ({marks})", part)
            yield from cursor.fetchall()


def tables() -> dict[str, str]:
    from habeas.agreements.models import Agreement, Jurisdiction
    from habeas.custody.models import LegalBasis
    from habeas.facilities.models import Facility

    return {
        "episode": CustodyEpisode._meta.db_table,
        "link": CustodyEpisode.legal_bases.through._meta.db_table,
        "basis": LegalBasis._meta.db_table,
        "agreement": Agreement._meta.db_table,
        "facility": Facility._meta.db_table,
        "jurisdiction": Jurisdiction._meta.db_table,
        "calculation": ReleaseCalculation._meta.db_table,
    }


#: Episode id → (person, facility, admitted day, agreement's end, sentence rules, country),
#: the days as ``YYYY-MM-DD`` text.
EpisodeRow = tuple[int, int, str, str | None, str | None, str | None]
#: (episode, basis id, kind, status, ends_on, ended_on, sentence, order_date,
#: removal_protection, protection_on, sentence_start, credit days, forfeited days), dates as
#: ``YYYY-MM-DD`` text.
BasisRow = tuple[
    int, int, str, str, str | None, str | None, str, str | None, Any, str | None, str | None,
    int | None, int | None,
]  # fmt: skip


@dataclass(frozen=True)
class OpenState:
    """What the check reads of the open episodes (or of the given ones): each episode and each
    of its legal bases, read once with two plain queries and shared by the recalculation and
    the alarm conditions."""

    episodes: dict[int, EpisodeRow]
    bases: list[BasisRow]


def open_state(episode_ids: Sequence[int] | None) -> OpenState:
    """Read :class:`OpenState` for every open episode (``None``) or for the given episodes."""
    t = tables()
    wanted = None if episode_ids is None else sorted(set(episode_ids))
    episodes: dict[int, EpisodeRow] = {
        row[0]: row[1:]
        for row in open_rows(
            f"SELECT e.id, e.person_id, e.facility_id, {day_text('e.admitted_at')}, "  # noqa: S608 - table names from the models, constants only
            f"{date_text('a.ends')}, a.sentence_rules, j.code FROM {t['episode']} e "
            f"LEFT JOIN {t['agreement']} a ON a.id = e.agreement_id "
            f"LEFT JOIN {t['facility']} f ON f.id = e.facility_id "
            f"LEFT JOIN {t['jurisdiction']} j ON j.id = f.jurisdiction_id WHERE 1 = 1",
            "e.id",
            wanted,
        )
    }
    bases: list[BasisRow] = list(
        open_rows(
            f"SELECT l.custodyepisode_id, b.id, b.kind, b.status, {date_text('b.ends_on')}, "  # noqa: S608 - table names from the models, constants only
            f"{date_text('b.ended_on')}, b.sentence, {date_text('b.order_date')}, "
            f"b.removal_protection, {date_text('b.protection_on')}, "
            f"{date_text('b.sentence_start')}, b.custody_credit_days, b.credit_forfeited_days "
            f"FROM {t['link']} l JOIN {t['basis']} b ON b.id = l.legalbasis_id "
            f"JOIN {t['episode']} e ON e.id = l.custodyepisode_id WHERE 1 = 1",
            "l.custodyepisode_id",
            wanted,
        )
    )
    return OpenState(episodes, bases)


def calculations_for(
    episode_ids: Sequence[int] | None, state: OpenState | None = None
) -> dict[int, tuple[int, _Pending]]:
    """Episode id → (person id, the calculation its inputs give now), for the episodes that
    have a criminal sentence (live or not: a vacated sentence leaves a calculation with none);
    ``None``: every open episode. ``state``: the rows, when the caller has read them."""
    if state is None:
        state = open_state(episode_ids)
    criminal = str(LegalBasisKind.CRIMINAL_SENTENCE)
    active = str(BasisStatus.ACTIVE)
    bases: dict[int, list[_Basis]] = defaultdict(list)
    has_sentence: set[int] = set()
    rows = state.bases
    for ep, pk, kind, status, _, _, sentence, _, _, _, start, credit, forfeited in rows:
        if kind != criminal:
            continue
        has_sentence.add(ep)
        if status != active or not sentence or start is None:
            continue
        bases[ep].append((pk, sentence, start, credit or 0, forfeited or 0))
    result: dict[int, tuple[int, _Pending]] = {}
    for ep, (person, _facility, _admitted, _ends, rules, country) in state.episodes.items():
        if ep in has_sentence:
            result[ep] = (person, _Pending(rules or "plain", country or "", bases.get(ep, [])))
    return result


#: (basis id, sentence, start as ``YYYY-MM-DD``, credit days, forfeited days)
_Basis = tuple[int, str, str, int, int]


class _Pending:
    """A calculation's inputs, calculated only when asked (most inputs have not changed)."""

    __slots__ = ("bases", "country", "rules")

    def __init__(self, rules: str, country: str, bases: list[_Basis]) -> None:
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
                    "basis": b[0],
                    "sentence": b[1],
                    "sentence_start": b[2],
                    "credit_days": b[3],
                    "forfeited_days": b[4],
                }
                for b in (self.bases if len(self.bases) < 2 else sorted(self.bases))
            ],
        }

    def calculate(self) -> Calculation:
        return calculate(
            self.rules,
            self.country,
            [BasisInput(b[0], b[1], dt.date.fromisoformat(b[2]), b[3], b[4]) for b in self.bases],
        )


def latest_calculations(episode_ids: Iterable[int] | None) -> dict[int, tuple[str, str | None]]:
    """Episode → (inputs_sha, release date as ``YYYY-MM-DD``) of its current calculation,
    the latest (``None``: of every open episode)."""
    t = tables()
    found: dict[int, tuple[int, str, str | None]] = {}
    for ep, pk, sha, release in open_rows(
        f"SELECT c.episode_id, c.id, c.inputs_sha, {date_text('c.release_date')} "  # noqa: S608 - table names from the models, constants only
        f"FROM {t['calculation']} c JOIN {t['episode']} e ON e.id = c.episode_id WHERE 1 = 1",
        "c.episode_id",
        None if episode_ids is None else sorted(set(episode_ids)),
    ):
        seen = found.get(ep)
        if seen is None or seen[0] < pk:
            found[ep] = (pk, sha, release)
    return {ep: (sha, release) for ep, (_pk, sha, release) in found.items()}


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
    return recalculate(actor=actor, episode_ids=episode_ids, at=at, append=append)[0]


@service
def recalculate(
    *,
    actor: Actor,
    episode_ids: Sequence[int] | None,
    at: dt.datetime | None = None,
    append: bool = True,
    state: OpenState | None = None,
) -> tuple[list[ReleaseCalculation], dict[int, tuple[str, str | None]]]:
    """:func:`release_recalculate`, also giving every episode's
    current calculation afterwards: episode → (inputs_sha, release date as text).
    ``state``: the episodes' rows, when the caller has read them (``check-custody``)."""
    when = at or now()
    wanted = None if episode_ids is None else sorted(set(episode_ids))
    computed = calculations_for(wanted, state)
    latest = latest_calculations(wanted)
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
        before = previous[1] if previous else None
        made.append(
            (
                person,
                row,
                dt.date.fromisoformat(before) if before else None,
                previous is not None,
            )
        )
    if not made:
        return [], latest
    made.sort(key=lambda m: m[1].episode_id)
    rows = ReleaseCalculation.objects.bulk_create([m[1] for m in made], batch_size=500)
    for row in rows:
        latest[row.episode_id] = (
            row.inputs_sha,
            row.release_date.isoformat() if row.release_date else None,
        )
    if not append:  # the caller's own entry carries each calculation (an admission)
        return rows, latest
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
    return rows, latest


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
