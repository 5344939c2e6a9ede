"""The oversight app's part of the event registry (ARCHITECTURE.md, the one rule, item 6).

The public locator's search index (``LocatorToken``, ``LocatorVariant``) is derived from the
people table. It is kept in step *in the transaction of the event that changes a name*: the
listener below runs inside ``ledger_append_many`` with the whole batch of appended events, so
the index commits (or rolls back) with the person, and a locator request only ever reads —
it may be answered by a read replica (ARCHITECTURE.md "Background work, caching, scale":
the locator and statistics must never write).
"""

from __future__ import annotations

from collections.abc import Sequence

from habeas.core.events import AppendedEvent, derived, on_appended

#: The ``people.*`` actions that create or change what the locator indexes (names, date of
#: birth, nationalities) or remove it. ``people.amended`` is not declared yet; listening
#: for it now keeps the index right the day it is.
PERSON_CHANGES = (
    "people.created",
    "people.identifier_added",
    "people.amended",
    "people.erased",
)

derived(
    "oversight.AccessLog",
    "the access log (Mandela Rule 9): a record of reads, not of custody; appended by the "
    "recorder and shown to oversight, it changes nothing Habeas answers for",
)
derived(
    "oversight.LocatorToken",
    "the locator's name index: rebuilt from people_person by locator_index_rebuild()",
)
derived(
    "oversight.LocatorVariant",
    "the locator's typo and transliteration key: rebuilt with the index from people_person",
)


def person_ids(events: Sequence[AppendedEvent]) -> list[int]:
    """The people named by the events' subjects (``person:12``), each once, in order."""
    ids = set()
    for event in events:
        kind, _sep, pk = event.subject.partition(":")
        if kind == "person" and pk.isdigit():
            ids.add(int(pk))
    return sorted(ids)


@on_appended(*PERSON_CHANGES)
def locator_reindex_people(events: Sequence[AppendedEvent]) -> None:
    """Re-index the people these events changed, in the appending transaction (one batch:
    a manifest of hundreds of people is a handful of queries, not one set per person)."""
    from habeas.oversight.services import locator_index_people

    ids = person_ids(events)
    if ids:
        locator_index_people(ids)


derived(
    "oversight.PopulationTally",
    "each open episode's share of the statistics: rebuilt from the custody and people tables "
    "by tally_rebuild(), kept in step by the listener below",
)
derived(
    "oversight.PopulationCount",
    "the statistics' breakdowns per facility, sums of PopulationTally: rebuilt by "
    "tally_rebuild(), kept in step by the listener below",
)

#: The actions that can change what an open episode adds to the statistics: it opens or
#: closes, moves to another facility, gains or loses a legal basis, or its person's sex or
#: nationalities change. ``people.amended`` is not declared yet (see above).
POPULATION_CHANGES = (
    "custody.admitted",
    "custody.released",
    "custody.transferred",
    "custody.basis_vacated",
    "custody.sentence_changed",
    "custody.sentence_converted",
    "custody.protection_recorded",
    "custody.credit_changed",
    "people.amended",
    "people.erased",
)


def _people_of(events: Sequence[AppendedEvent]) -> list[int]:
    """The people named by the events: their subjects and, for a subject that is not a
    person, the payload's ``person``."""
    ids = set(person_ids(events))
    for event in events:
        person = event.payload.get("person")
        if isinstance(person, int):
            ids.add(person)
    return sorted(ids)


@on_appended(*POPULATION_CHANGES)
def population_tally_refresh(events: Sequence[AppendedEvent]) -> None:
    """Keep the statistics' counts in the appending transaction
    (:mod:`habeas.oversight.tally`): the people the events name are counted again."""
    from habeas.oversight.tally import tally_refresh

    ids = _people_of(events)
    if ids:
        tally_refresh(ids)
