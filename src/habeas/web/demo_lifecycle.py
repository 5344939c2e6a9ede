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
from habeas.custody.sentences import parse_sentence


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
    parsed = parse_sentence(original.sentence)
    shorter = "P30Y" if parsed.life else f"P{max(parsed.total_months - 6, 1)}M"
    sentence_convert(
        actor=actor,
        basis=original,
        new=NewSentence(
            sentence=shorter,
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
    _notifications(actor)


def _notifications(actor: Actor) -> None:
    """A sending state's webhook that is down (its deliveries fail and are retried, one is
    dead), a consulate's, and family e-mails delivered (console backend in the demo)."""
    import contextlib
    import io

    from habeas.notifications.models import Delivery
    from habeas.notifications.services import (
        Notice,
        deliver,
        delivery_record,
        family_objection_record,
        notices_queue,
        subscription_create,
    )

    subscription_create(
        actor=actor,
        name="US DHS transfer desk (demo, unreachable)",
        audience="sending_state",
        country="US",
        url="http://127.0.0.1:9/habeas",
        secret="demo-secret-0123456789",  # noqa: S106 (demo data)
    )
    subscription_create(
        actor=actor,
        name="Consulate of Venezuela (demo, unreachable)",
        audience="consular",
        country="VE",
        url="http://127.0.0.1:9/consulate",
        secret="demo-secret-9876543210",  # noqa: S106 (demo data)
    )
    episodes = list(
        CustodyEpisode.objects.open().filter(agreement__isnull=False).order_by("pk")[:3]
    )
    notices_queue(
        actor=actor,
        notices=[Notice(e.pk, "transfer", {"at": now()}, occurrence="demo") for e in episodes],
    )
    if episodes:
        family_objection_record(actor=actor, person=episodes[-1].person, reason="")
    # Some family e-mails go out (sent); the demo's webhooks meet receivers that are down
    # (failed, retried later), and one is tried until it is dead: the person pages show all
    # three (issue 13, demo: "delivered and failed notifications").
    attempted = list(
        Delivery.objects.filter(channel="email").order_by("pk").values_list("pk", flat=True)[:8]
    ) + list(
        Delivery.objects.filter(channel="webhook", key__contains=":demo:")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with contextlib.redirect_stdout(io.StringIO()):
        for pk in attempted:
            deliver(pk, worker="demo")
    dead = Delivery.objects.filter(status="failed").order_by("pk").first()
    if dead is not None:  # a receiver down for good: the last try makes it dead
        from habeas.notifications.services import max_attempts

        for _ in range(max_attempts() - dead.attempts):
            delivery_record(actor=actor, delivery=dead, ok=False, error="connection refused")
