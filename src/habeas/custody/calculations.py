"""Stored release-date calculations (STANDARDS.md, Sentences; HMPPS calculate-release-dates):
each is kept with its inputs and rule-set version, and a new one is made when an input
changes (a sentence amended or vacated, credit forfeited or restored, the agreement's rule set,
a transfer to a facility in another country). The arithmetic is :mod:`habeas.custody.release`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.rows import Rows
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


def open_rows(
    sql: str, episode_column: str, episode_ids: Sequence[int] | None, order: str = ""
) -> Iterator[Any]:
    """Rows of ``sql`` (a SELECT joining the episode as ``e``, its WHERE clause left open)
    for every open episode (``None``) or for the given episodes, a chunk of ids at a time
    (sorted ids: ``order`` by the episode then keeps its order across chunks)."""
    tail = f" ORDER BY {order}" if order else ""
    with connection.cursor() as cursor:
        if episode_ids is None:
            cursor.execute(sql + " AND e.released_at IS NULL" + tail)
            while rows := cursor.fetchmany(CHUNK):
                yield from rows
            return
        ids = list(episode_ids)
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(sql + f" AND {episode_column} IN ({marks})" + tail, part)
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


def _key_part() -> str:
    """SQL for a sentence's part of the inputs' key text (``b``: the legal basis), as
    :func:`~habeas.custody.release.inputs_sha` serialises it, or NULL for a sentence not in
    force."""
    return (
        f"CASE WHEN b.status = '{BasisStatus.ACTIVE}' AND b.sentence <> '' AND "
        f"b.sentence_start IS NOT NULL THEN '{{\"basis\":' || CAST(b.id AS TEXT) || "
        f"',\"credit_days\":' || CAST(COALESCE(b.custody_credit_days, 0) AS TEXT) || "
        f"',\"forfeited_days\":' || CAST(COALESCE(b.credit_forfeited_days, 0) AS TEXT) || "
        f'\',"sentence":"\' || b.sentence || \'","sentence_start":"\' || '
        f"{date_text('b.sentence_start')} || '\"}}' END"
    )


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def changed_candidates(episode_ids: Sequence[int] | None) -> list[int]:
    """The open episodes with a criminal sentence whose inputs may have changed since their
    current calculation (``None``: among every open episode): the database puts together
    each episode's key text (the sentences' parts in basis order) and compares its SHA-256
    with the stored ``inputs_sha``, so an unchanged episode never leaves it. On SQLite the
    hash is a function registered on the connection. A text that differs from what
    :func:`~habeas.custody.release.inputs_sha` hashes (a value JSON would escape, parts in
    another order) only makes the episode a candidate: :func:`release_recalculate` then
    compares its inputs built in Python."""
    t = tables()
    if connection.vendor == "postgresql":
        parts = f"string_agg({_key_part()}, ',' ORDER BY l.legalbasis_id)"
        digest = "encode(sha256(convert_to(k.text, 'UTF8')), 'hex')"
    else:
        connection.ensure_connection()
        connection.connection.create_function("habeas_sha256", 1, _sha256_hex, deterministic=True)
        parts = f"group_concat({_key_part()}, ',')"
        digest = "habeas_sha256(k.text)"
    version = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in VERSIONS.items())
    rules = "COALESCE(a.sentence_rules, 'plain')"
    text = (
        f'\'{{"country":"\' || UPPER(COALESCE(j.code, \'\')) || \'","rule_set":"\' || '
        f"{rules} || '\",\"sentences\":[' || COALESCE({parts}, '') || "
        f"'],\"version\":\"' || CASE {rules} {version} ELSE {rules} END || '\"}}'"
    )
    inner = (
        f"SELECT l.custodyepisode_id AS ep, {text} AS text, (SELECT c.inputs_sha "  # noqa: S608 - table names from the models, constants only
        f"FROM {t['calculation']} c WHERE c.episode_id = l.custodyepisode_id "
        f"ORDER BY c.id DESC LIMIT 1) AS latest "
        f"FROM {t['link']} l JOIN {t['basis']} b ON b.id = l.legalbasis_id "
        f"JOIN {t['episode']} e ON e.id = l.custodyepisode_id "
        f"LEFT JOIN {t['agreement']} a ON a.id = e.agreement_id "
        f"LEFT JOIN {t['facility']} f ON f.id = e.facility_id "
        f"LEFT JOIN {t['jurisdiction']} j ON j.id = f.jurisdiction_id "
        f"WHERE b.kind = '{LegalBasisKind.CRIMINAL_SENTENCE}' {{where}} "
        f"GROUP BY l.custodyepisode_id, j.code, a.sentence_rules"
    )
    sql = f"SELECT k.ep FROM ({inner}) k WHERE k.latest IS NULL OR {digest} <> k.latest"  # noqa: S608 - built above from constants
    found: list[int] = []
    with connection.cursor() as cursor:
        if episode_ids is None:
            cursor.execute(sql.replace("{where}", "AND e.released_at IS NULL"))
            found = [ep for (ep,) in cursor.fetchall()]
        else:
            ids = sorted(set(episode_ids))
            for i in range(0, len(ids), CHUNK):
                part = ids[i : i + CHUNK]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(
                    sql.replace(
                        "{where}",
                        f"AND e.released_at IS NULL AND l.custodyepisode_id IN ({marks})",
                    ),
                    part,
                )
                found += [ep for (ep,) in cursor.fetchall()]
    return sorted(found)


def sentence_rows(episode_ids: Sequence[int] | None) -> Iterator[Any]:
    """One row per criminal sentence of every open episode (``None``) or of the given ones,
    in episode order: (episode, person, sentence rules, country, basis id, status, sentence,
    start as ``YYYY-MM-DD``, credit days, forfeited days, the current calculation's
    inputs_sha, and the sentence's part of the inputs as the JSON text
    :func:`~habeas.custody.release.inputs_sha` hashes, or NULL for a sentence not in force).
    One plain query: only what a calculation's inputs are made of."""
    t = tables()
    yield from open_rows(
        f"SELECT l.custodyepisode_id, e.person_id, a.sentence_rules, j.code, b.id, b.status, "  # noqa: S608 - table names from the models, constants only
        f"b.sentence, {date_text('b.sentence_start')}, b.custody_credit_days, "
        f"b.credit_forfeited_days, (SELECT c.inputs_sha FROM {t['calculation']} c "
        f"WHERE c.episode_id = l.custodyepisode_id ORDER BY c.id DESC LIMIT 1), "
        f"{_key_part()} "
        f"FROM {t['link']} l JOIN {t['basis']} b ON b.id = l.legalbasis_id "
        f"JOIN {t['episode']} e ON e.id = l.custodyepisode_id "
        f"LEFT JOIN {t['agreement']} a ON a.id = e.agreement_id "
        f"LEFT JOIN {t['facility']} f ON f.id = e.facility_id "
        f"LEFT JOIN {t['jurisdiction']} j ON j.id = f.jurisdiction_id "
        f"WHERE b.kind = '{LegalBasisKind.CRIMINAL_SENTENCE}'",
        "l.custodyepisode_id",
        None if episode_ids is None else sorted(set(episode_ids)),
        order="l.custodyepisode_id, l.legalbasis_id",
    )


def calculations_for(
    episode_ids: Sequence[int] | None,
) -> Iterator[tuple[int, int, _Pending, str | None, str]]:
    """(episode, person, the calculation its inputs give now, the current calculation's
    inputs_sha, the inputs' key text) for each episode that has a criminal sentence (live or
    not: a vacated sentence leaves a calculation with none); ``None``: every open episode.

    The key text is the inputs as :func:`~habeas.custody.release.inputs_sha` serialises them
    (sorted keys, no spaces), put together from the parts the query built, so that unchanged
    inputs are recognised by one SHA-256 of it; when it differs (a value JSON would escape),
    :func:`release_recalculate` builds the inputs and compares again."""
    active = str(BasisStatus.ACTIVE)
    current: int | None = None
    person = 0
    rules = country = ""
    sha: str | None = None
    bases: list[_Basis] = []
    parts: list[str] = []

    def key() -> str:
        return (
            f'{{"country":"{country.upper()}","rule_set":"{rules}","sentences":'
            f'[{",".join(parts)}],"version":"{VERSIONS.get(rules, rules)}"}}'
        )

    for row in sentence_rows(episode_ids):
        ep, who, rule_set, code, pk, status, sentence, start, credit, forfeited, latest, part = row
        if ep != current:
            if current is not None:
                yield current, person, _Pending(rules, country, bases), sha, key()
            current, person, rules, country, sha = (
                ep, who, rule_set or "plain", code or "", latest
            )  # fmt: skip
            bases = []
            parts = []
        if status == active and sentence and start is not None:
            bases.append((pk, sentence, start, credit or 0, forfeited or 0))
            parts.append(part)
    if current is not None:
        yield current, person, _Pending(rules, country, bases), sha, key()


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
    again and again (``check-custody``). Unchanged inputs are recognised by their key
    (:func:`~habeas.custody.release.inputs_sha`) read beside them in the same query; only
    the changed ones are calculated, and only their previous dates are read."""
    when = at or now()
    candidates = changed_candidates(episode_ids)
    changed: list[tuple[int, int, _Pending, dict[str, Any], str, bool]] = []
    if not candidates:
        return []
    for ep, person, pending, latest, text in calculations_for(candidates):
        if latest is not None and hashlib.sha256(text.encode()).hexdigest() == latest:
            continue  # unchanged
        inputs = pending.inputs()
        sha = inputs_sha(inputs)
        if latest != sha:
            changed.append((ep, person, pending, inputs, sha, latest is not None))
    if not changed:
        return []
    previous = _previous_dates([c[0] for c in changed if c[5]])
    made: list[tuple[int, ReleaseCalculation, dt.date | None, bool]] = []
    for ep, person, pending, inputs, sha, again in changed:
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
        made.append((person, row, previous.get(ep), again))
    made.sort(key=lambda m: m[1].episode_id)
    rows = [m[1] for m in made]
    _insert_calculations(rows)
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
                    "previous_release_date": before,
                    "recalculated": again,
                },
            )
            for (person, _r, before, again), row in zip(made, rows, strict=True)
        ],
    )
    return rows


def release_calculate_admitted(
    *,
    episodes: Sequence[tuple[int, list[tuple[int, str, dt.date, int]]]],
    rule_set: str | None,
    country: str,
    at: dt.datetime,
) -> list[ReleaseCalculation]:
    """The first calculation of each episode just admitted: what :func:`release_recalculate`
    makes of it (an episode with no calculation has changed inputs), from the values the
    admission holds instead of read back from the tables. ``episodes``: (episode, its
    criminal sentences as (basis, sentence, start, custody credit days), in basis order),
    under the agreement's rule set and the facility's country. No ledger entry: the
    admission's own carries each calculation."""
    rules = rule_set or "plain"
    made = []
    for ep, sentences in sorted(episodes):
        pending = _Pending(
            rules,
            country,
            [(pk, s, start.isoformat(), credit or 0, 0) for pk, s, start, credit in sentences],
        )
        inputs = pending.inputs()
        calc = pending.calculate()
        made.append(
            ReleaseCalculation(
                episode_id=ep,
                rule_set=calc.rule_set,
                version=calc.version,
                inputs=inputs,
                inputs_sha=inputs_sha(inputs),
                release_date=calc.release_date,
                full_term=calc.full_term,
                working=calc.working(),
                calculated_at=at,
            )
        )
    _insert_calculations(made)
    return made


def _insert_calculations(rows: list[ReleaseCalculation]) -> None:
    """Store new calculations as plain rows (:mod:`habeas.core.rows`; an admission of a
    whole facility makes tens of thousands), their ids set on the instances as
    ``bulk_create`` would."""
    writer = Rows()
    json, date, instant = writer.json, writer.date, writer.instant
    for pk, row in zip(writer.ids(ReleaseCalculation, len(rows)), rows, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = "default"
    writer.insert(
        ReleaseCalculation,
        (
            "id", "episode_id", "rule_set", "version", "inputs", "inputs_sha", "release_date",
            "full_term", "working", "calculated_at",
        ),
        [
            (
                r.pk, r.episode_id, r.rule_set, r.version, json(r.inputs), r.inputs_sha,
                date(r.release_date), date(r.full_term), json(r.working), instant(r.calculated_at),
            )
            for r in rows
        ],
    )  # fmt: skip


def _previous_dates(episode_ids: list[int]) -> dict[int, dt.date | None]:
    """Episode → the release date of its current calculation (the latest)."""
    found: dict[int, tuple[int, dt.date | None]] = {}
    for i in range(0, len(episode_ids), CHUNK):
        for ep, pk, release in ReleaseCalculation.objects.filter(
            episode_id__in=episode_ids[i : i + CHUNK]
        ).values_list("episode_id", "pk", "release_date"):
            if ep not in found or found[ep][0] < pk:
                found[ep] = (pk, release)
    return {ep: release for ep, (_pk, release) in found.items()}


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
