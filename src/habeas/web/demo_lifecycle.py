"""The custody lifecycle in the demo (STANDARDS.md, Sentences; Mandela Rule 7(b)): sentences
ending this week, someone held past the projected release date, removal orders past the
removal period, a court's new sentence, a treaty conversion, an order vacated, a protection
order, good conduct time forfeited and restored; then ``check-custody`` opens the alarms."""

from __future__ import annotations

import datetime as dt

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.custody.amendments import (
    NewSentence,
    basis_vacate,
    credit_change,
    protection_record,
    sentence_change,
    sentence_convert,
)
from habeas.custody.check import custody_check
from habeas.custody.models import CustodyEpisode, LegalBasis


def _open_with(kind: str, *, agreement: bool) -> list[LegalBasis]:
    episodes = CustodyEpisode.objects.open().filter(agreement__isnull=not agreement)
    return list(
        LegalBasis.objects.filter(kind=kind, status="active", episodes__in=episodes)
        .order_by("pk")
        .distinct()[:12]
    )


def load_lifecycle(actor: Actor) -> None:
    today = now().date()
    sentenced = _open_with("criminal_sentence", agreement=True)
    domestic = _open_with("criminal_sentence", agreement=False)
    removals = _open_with("removal_order", agreement=True)
    if len(sentenced) < 6 or len(domestic) < 2 or len(removals) < 2:
        return
    # Two sentences ending this week (a court's resentencing: two years from two years ago).
    for i, basis in enumerate(domestic[:2]):
        start = today.replace(year=today.year - 2) + dt.timedelta(days=2 + 2 * i)
        sentence_change(
            actor=actor,
            basis=basis,
            new=NewSentence(sentence="P2Y", sentence_start=start, ref=f"{basis.ref}-R"),
            on=today - dt.timedelta(days=30),
        )
    # Held past the projected release date: under us_federal a two-year sentence earns 108
    # days of good conduct time, so the projected date passed although the full term has not.
    start = today.replace(year=today.year - 2) + dt.timedelta(days=60)
    sentence_change(
        actor=actor,
        basis=sentenced[0],
        new=NewSentence(sentence="P2Y", sentence_start=start, ref=f"{sentenced[0].ref}-R"),
        on=today - dt.timedelta(days=90),
    )
    # A treaty conversion, shorter than the original (ETS 112 art. 10(2)).
    original = sentenced[1]
    sentence_convert(
        actor=actor,
        basis=original,
        new=NewSentence(
            sentence="P3Y",
            sentence_start=original.sentence_start or today,
            authority="SV",
            ref=f"CONV-{original.ref}",
        ),
        on=today - dt.timedelta(days=20),
    )
    # Good conduct time forfeited after a disciplinary finding, partly restored.
    credit_change(
        actor=actor,
        basis=sentenced[2],
        change="forfeited",
        days=27,
        on=today - dt.timedelta(days=40),
        reason="Disciplinary finding 14/2025: contraband",
    )
    credit_change(
        actor=actor,
        basis=sentenced[2],
        change="restored",
        days=13,
        on=today - dt.timedelta(days=5),
        reason="Review board: conduct since the finding",
    )
    # A court vacates a removal order held alongside a sentence; a protection order.
    basis_vacate(
        actor=actor,
        basis=removals[0],
        on=today - dt.timedelta(days=10),
        authority="US District Court",
        ref="Order 25-cv-0418",
    )
    protection_record(
        actor=actor,
        basis=removals[1],
        on=today - dt.timedelta(days=3),
        authority="US District Court",
        ref="TRO 25-cv-0733",
    )
    custody_check(actor=actor)
