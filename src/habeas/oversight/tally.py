"""The population statistics kept current as events happen (Mandela Rule 10: reliable data on
the prison population), instead of counted from the whole registry on every request.

Each open custody episode's contribution to the breakdowns of the statistics (nationality,
sex, kinds of legal basis, agreement, per facility) is a :class:`PopulationTally` row, and
their sums are :class:`PopulationCount` rows. The listener below runs in the transaction of
every event that can change a contribution (``ledger_append_many`` hands it the batch): it
recomputes the contributions of the people the events name from the tables, takes the old
ones out of the counts and puts the new ones in. The counts therefore commit, or roll back,
with the change itself: never stale, and a statistics request only reads (it may be answered
by a read replica).

:func:`contributions` is also the definition from scratch: the statistics computed from the
tables (:func:`habeas.oversight.selectors.stats_document_from_scratch`) and the tally agree
after any sequence of events (tests/oversight/test_statistics_maintained.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet, Sum

from habeas.core.rows import Rows
from habeas.custody.models import CustodyEpisode
from habeas.oversight.models import PopulationCount, PopulationTally

CHUNK = 5000
#: The breakdowns of the statistics document kept here, by their key in :class:`PopulationCount`.
DIMENSIONS = ("nationality", "sex", "basis", "agreement")


@dataclass(frozen=True)
class Contribution:
    episode_id: int
    person_id: int
    facility_id: int
    sex: str
    nationalities: tuple[str, ...]
    basis: str
    agreement: str

    def keys(self) -> list[tuple[int, str, str]]:
        """(facility, dimension, key) once per unit this episode adds: a person of two
        nationalities counts under each (as the statistics always counted them)."""
        f = self.facility_id
        out = [(f, "nationality", code) for code in self.nationalities or ("unknown",)]
        out += [(f, "sex", self.sex), (f, "basis", self.basis), (f, "agreement", self.agreement)]
        return out

    def row(self) -> PopulationTally:
        return PopulationTally(
            episode_id=self.episode_id,
            person_id=self.person_id,
            facility_id=self.facility_id,
            sex=self.sex,
            nationalities=",".join(self.nationalities),
            basis=self.basis,
            agreement=self.agreement,
        )

    @classmethod
    def of_row(cls, row: PopulationTally) -> Contribution:
        return cls(
            episode_id=row.episode_id,
            person_id=row.person_id,
            facility_id=row.facility_id,
            sex=row.sex,
            nationalities=tuple(row.nationalities.split(",")) if row.nationalities else (),
            basis=row.basis,
            agreement=row.agreement,
        )


def contributions(episodes: QuerySet[CustodyEpisode]) -> list[Contribution]:
    """What each open episode of ``episodes`` adds to the statistics, read from the tables:
    the person's sex and nationalities (the JSON list decoded once per distinct value), the
    sorted distinct kinds of every legal basis linked to the episode ("none" without one),
    the agreement's code ("domestic" without one)."""
    open_episodes = episodes.filter(released_at__isnull=True).order_by()
    kinds: dict[int, set[str]] = {}
    for episode_id, kind in open_episodes.values_list("pk", "legal_bases__kind"):
        found = kinds.setdefault(episode_id, set())
        if kind:
            found.add(kind)
    rows = open_episodes.values_list(
        "pk",
        "person_id",
        "facility_id",
        "person__sex",
        "person__nationalities",
        "agreement__code",
    )
    return _contributions_from(rows, kinds)


def _contributions_from(
    rows: Iterable[Sequence[Any]], kinds: dict[int, set[str]]
) -> list[Contribution]:
    """One :class:`Contribution` per (episode, person, facility, sex, nationalities,
    agreement code) row, with the kinds of each episode's legal bases; nationalities come as
    a list (the ORM) or as JSON text (a plain query) and are decoded once per distinct value."""
    decoded: dict[Any, tuple[str, ...]] = {}
    out = []
    for pk, person, facility, sex, nationalities, agreement in rows:
        key = nationalities if isinstance(nationalities, str) else repr(nationalities)
        codes = decoded.get(key)
        if codes is None:
            value = json.loads(nationalities) if isinstance(nationalities, str) else nationalities
            codes = decoded[key] = tuple(str(c) for c in value or ())
        out.append(
            Contribution(
                episode_id=pk,
                person_id=person,
                facility_id=facility,
                sex=sex or "",
                nationalities=codes,
                basis="+".join(sorted(kinds.get(pk, ()))) or "none",
                agreement=agreement or "domestic",
            )
        )
    return out


def _apply(delta: Counter[tuple[int, str, str]]) -> None:
    """Add ``delta`` to the counts: a row for each new key, then one increment per key (an
    ``UPDATE … SET n = n + d``: two transactions that count the same key both land)."""
    changed = {k: d for k, d in delta.items() if d}
    if not changed:
        return
    PopulationCount.objects.bulk_create(
        [PopulationCount(facility_id=f, dimension=dim, key=key, n=0) for f, dim, key in changed],
        ignore_conflicts=True,
        batch_size=500,
    )
    for (f, dim, key), d in sorted(changed.items()):
        PopulationCount.objects.filter(facility_id=f, dimension=dim, key=key).update(n=F("n") + d)


def tally_refresh(person_ids: Sequence[int]) -> None:
    """Recompute the contributions of these people's episodes and move the counts by the
    difference (run by the listener, inside the appending transaction). Set-based: two plain
    reads per chunk of people (their tally rows, their episodes' contributions), one plain
    delete of the rows that changed and one ``executemany`` of the new ones
    (:mod:`habeas.core.rows`); an admission of thousands of people is a few statements."""
    ids = sorted(set(person_ids))
    delta: Counter[tuple[int, str, str]] = Counter()
    table = PopulationTally._meta.db_table
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        marks = ", ".join(["%s"] * len(part))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_TALLY_COLUMNS)} FROM {table} "  # noqa: S608 - names from the model
                f"WHERE person_id IN ({marks})",
                part,
            )
            old_rows = {row[0]: _of_values(row) for row in cursor.fetchall()}
        new_rows = {c.episode_id: c for c in _contributions_of_people(part)}
        for c in old_rows.values():
            delta.subtract(c.keys())
        for c in new_rows.values():
            delta.update(c.keys())
        gone = [pk for pk, c in old_rows.items() if new_rows.get(pk) != c]
        if gone:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {table} WHERE episode_id IN ({', '.join(['%s'] * len(gone))})",  # noqa: S608
                    gone,
                )
        Rows().insert(
            PopulationTally,
            _TALLY_COLUMNS,
            [
                (
                    pk,
                    c.person_id,
                    c.facility_id,
                    c.sex,
                    ",".join(c.nationalities),
                    c.basis,
                    c.agreement,
                )
                for pk, c in new_rows.items()
                if old_rows.get(pk) != c
            ],
        )
    _apply(delta)


_TALLY_COLUMNS = (
    "episode_id", "person_id", "facility_id", "sex", "nationalities", "basis", "agreement",
)  # fmt: skip


def _of_values(row: Sequence[Any]) -> Contribution:
    episode, person, facility, sex, nationalities, basis, agreement = row
    return Contribution(
        episode_id=episode,
        person_id=person,
        facility_id=facility,
        sex=sex,
        nationalities=tuple(nationalities.split(",")) if nationalities else (),
        basis=basis,
        agreement=agreement,
    )


def _contributions_of_people(person_ids: Sequence[int]) -> list[Contribution]:
    """:func:`contributions` of these people's episodes, read with two plain queries (the
    kinds of each open episode's legal bases; the episode with its person and agreement)."""
    from habeas.agreements.models import Agreement
    from habeas.custody.models import LegalBasis
    from habeas.people.models import Person

    episode = CustodyEpisode._meta.db_table
    link = CustodyEpisode.legal_bases.through._meta.db_table
    marks = ", ".join(["%s"] * len(person_ids))
    where = f"e.released_at IS NULL AND e.person_id IN ({marks})"
    kinds: dict[int, set[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, b.kind FROM {episode} e "  # noqa: S608 - names from the models
            f"JOIN {link} l ON l.custodyepisode_id = e.id "
            f"JOIN {LegalBasis._meta.db_table} b ON b.id = l.legalbasis_id WHERE {where}",
            list(person_ids),
        )
        for episode_id, kind in cursor.fetchall():
            found = kinds.setdefault(episode_id, set())
            if kind:
                found.add(kind)
        cursor.execute(
            f"SELECT e.id, e.person_id, e.facility_id, p.sex, p.nationalities, a.code "  # noqa: S608
            f"FROM {episode} e JOIN {Person._meta.db_table} p ON p.id = e.person_id "
            f"LEFT JOIN {Agreement._meta.db_table} a ON a.id = e.agreement_id WHERE {where}",
            list(person_ids),
        )
        rows = cursor.fetchall()
    return _contributions_from(rows, kinds)


def tally_rebuild() -> None:
    """Rebuild both tables from the custody tables (after a restore, or to repair them)."""
    PopulationTally.objects.all().delete()
    PopulationCount.objects.all().delete()
    found = contributions(CustodyEpisode.objects.all())
    PopulationTally.objects.bulk_create([c.row() for c in found], batch_size=1000)
    counts: Counter[tuple[int, str, str]] = Counter()
    for c in found:
        counts.update(c.keys())
    PopulationCount.objects.bulk_create(
        [
            PopulationCount(facility_id=f, dimension=dim, key=key, n=n)
            for (f, dim, key), n in sorted(counts.items())
            if n
        ],
        batch_size=1000,
    )


def tally_counts(facility_ids: Iterable[int]) -> dict[str, Counter[str]]:
    """The breakdowns over these facilities, from the maintained counts: one small query."""
    out: dict[str, Counter[str]] = {dim: Counter() for dim in DIMENSIONS}
    rows = (
        PopulationCount.objects.filter(facility_id__in=list(facility_ids))
        .values("dimension", "key")
        .annotate(total=Sum("n"))
        .order_by()
    )
    for row in rows:
        if row["total"]:
            out[row["dimension"]][row["key"]] += row["total"]
    return out
