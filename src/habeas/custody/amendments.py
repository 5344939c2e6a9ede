"""Amendments to a legal basis, each a service with its ledger entry (Mandela Rule 7(b): the
commitment order and every change to it; Rule 8(a): court process information):

* a court changes a sentence — a new basis supersedes the old one from a day;
* an order is vacated — it holds nobody from that day;
* a court order protecting the person from removal to this state is recorded;
* a treaty conversion (ETS 112 arts. 9-11; 18 U.S.C. § 4106) — a new basis supersedes the
  sentence, never longer than the original;
* good conduct time forfeited or restored (18 U.S.C. § 3624(b)).

The old order is never edited away: it stays on the file, superseded or vacated, so the
episode's timeline can say which order held the person on each day. Each amendment
recalculates the release date in the same transaction (:mod:`habeas.custody.calculations`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, ValidationFailed
from habeas.core.services import service
from habeas.custody.calculations import release_recalculate
from habeas.custody.choices import BasisStatus, CreditChange, LegalBasisKind
from habeas.custody.models import CreditAdjustment, CustodyEpisode, LegalBasis
from habeas.custody.release import full_term_less_credit, good_conduct_days
from habeas.custody.sentences import add_months, parse_sentence
from habeas.ledger.services import Event, ledger_append_many

MSG_NOT_ACTIVE = "legal basis {basis} is {status}: only an order in force can be amended"
MSG_NOT_SENTENCE = "legal basis {basis} is not a criminal sentence"
MSG_NOT_REMOVAL = "legal basis {basis} is not a removal order"
MSG_LONGER = (
    "ETS 112 art. 10(2): a converted sentence ({converted}, full term {converted_end}) may not "
    "be longer than the original ({original}, full term {original_end})"
)
MSG_SENTENCE = "{sentence!r} is not an ISO 8601 duration (P10Y, P18M) or 'life'"
MSG_DAY_BEFORE = "the amendment day {on} is before the order's start {start}"
MSG_CREDIT_DAYS = "days must be a whole number above zero"
MSG_RESTORE_MORE = "only {forfeited} days are forfeited on basis {basis}: {days} cannot be restored"
MSG_FORFEIT_MORE = (
    "basis {basis} earns {earned} days of good conduct time; {days} more cannot be forfeited"
)
MSG_REASON = "a reason is required"
MSG_PROTECTED = "legal basis {basis} already records a protection order"


@dataclass(frozen=True)
class NewSentence:
    """What a court's new sentence or a conversion says."""

    sentence: str
    sentence_start: dt.date
    custody_credit_days: int = 0
    ref: str = ""
    authority: str = ""


def _active(basis: LegalBasis) -> LegalBasis:
    locked = LegalBasis.objects.select_for_update().get(pk=basis.pk)
    if locked.status != BasisStatus.ACTIVE:
        raise Conflict(MSG_NOT_ACTIVE.format(basis=basis.pk, status=locked.status))
    return locked


def _episodes_of(basis: LegalBasis) -> list[CustodyEpisode]:
    return list(basis.episodes.all().order_by("pk"))


def _recalculate(actor: Actor, basis: LegalBasis, at: dt.datetime) -> None:
    episodes = [e.pk for e in basis.episodes.filter(released_at__isnull=True)]
    if episodes:
        release_recalculate(actor=actor, episode_ids=episodes, at=at)


def _parse(sentence: str) -> None:
    try:
        parse_sentence(sentence)
    except ValueError:
        raise ValidationFailed(MSG_SENTENCE.format(sentence=sentence)) from None


def _full_term(sentence: str, start: dt.date) -> dt.date | None:
    parsed = parse_sentence(sentence)
    if parsed.life:
        return None
    return add_months(start, parsed.total_months) + dt.timedelta(days=parsed.days)


def _replace(
    *,
    actor: Actor,
    basis: LegalBasis,
    new: NewSentence,
    on: dt.date,
    action: str,
    extra: dict[str, Any],
) -> LegalBasis:
    from habeas.custody.services import basis_snapshot

    old = _active(basis)
    if old.kind != LegalBasisKind.CRIMINAL_SENTENCE:
        raise ValidationFailed(MSG_NOT_SENTENCE.format(basis=basis.pk))
    _parse(new.sentence)
    if new.custody_credit_days < 0:
        raise ValidationFailed("custody credit cannot be negative")
    at = now()
    replacement = LegalBasis(
        person_id=old.person_id,
        kind=old.kind,
        ref=new.ref or old.ref,
        authority=new.authority or old.authority,
        status_in_sending_state=old.status_in_sending_state,
        offence=old.offence,
        conviction_date=old.conviction_date,
        judgment_final=old.judgment_final,
        sentence=new.sentence,
        sentence_start=new.sentence_start,
        custody_credit_days=new.custody_credit_days,
        consent=old.consent,
        recorded_at=at,
        ends_on=full_term_less_credit(new.sentence, new.sentence_start, new.custody_credit_days),
        supersedes=old,
        credit_forfeited_days=old.credit_forfeited_days,
    )
    replacement.save()
    old.status = BasisStatus.SUPERSEDED
    old.ended_on = on
    old.save(update_fields=["status", "ended_on"])
    episodes = _episodes_of(old)
    for episode in episodes:
        episode.legal_bases.add(replacement)
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action=action,
                subject=f"person:{old.person_id}",
                occurred_at=at,
                payload={
                    "person": old.person_id,
                    "basis": old.pk,
                    "on": on,
                    "episodes": [e.pk for e in episodes],
                    "new": basis_snapshot(replacement),
                    **extra,
                },
            )
        ],
    )
    _recalculate(actor, replacement, at)
    return replacement


@service
def sentence_change(
    *, actor: Actor, basis: LegalBasis, new: NewSentence, on: dt.date
) -> LegalBasis:
    """A court changes a sentence (on appeal, on resentencing): the new sentence holds the
    person from ``on``; the old one is superseded that day (Mandela Rule 8(a))."""
    return _replace(
        actor=actor, basis=basis, new=new, on=on, action="custody.sentence_changed", extra={}
    )


@service
def sentence_convert(
    *, actor: Actor, basis: LegalBasis, new: NewSentence, on: dt.date
) -> LegalBasis:
    """A treaty conversion (ETS 112 arts. 9-11; 18 U.S.C. § 4106): the administering state's
    sentence replaces the original from ``on``, and is never longer — its full term may not
    end after the original's (a life sentence may only become a life or a fixed term)."""
    original = LegalBasis.objects.get(pk=basis.pk)
    _parse(new.sentence)
    original_end = (
        _full_term(original.sentence, original.sentence_start)
        if original.sentence and original.sentence_start
        else None
    )
    converted_end = _full_term(new.sentence, new.sentence_start)
    longer = (converted_end is None and original_end is not None) or (
        converted_end is not None and original_end is not None and converted_end > original_end
    )
    if longer:
        raise ValidationFailed(
            MSG_LONGER.format(
                converted=new.sentence,
                converted_end=converted_end or "life",
                original=original.sentence,
                original_end=original_end,
            )
        )
    return _replace(
        actor=actor,
        basis=basis,
        new=new,
        on=on,
        action="custody.sentence_converted",
        extra={"original_full_term": original_end, "converted_full_term": converted_end},
    )


@service
def basis_vacate(
    *, actor: Actor, basis: LegalBasis, on: dt.date, authority: str, ref: str = ""
) -> LegalBasis:
    """A court vacates an order (or the issuing authority withdraws it): from ``on`` it
    holds nobody (Mandela Rule 7(b)). If it was the person's only order, check-custody opens
    the no-live-basis alarm."""
    old = _active(basis)
    if old.sentence_start is not None and on < old.sentence_start:
        raise ValidationFailed(MSG_DAY_BEFORE.format(on=on, start=old.sentence_start))
    at = now()
    old.status = BasisStatus.VACATED
    old.ended_on = on
    old.save(update_fields=["status", "ended_on"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.basis_vacated",
                subject=f"person:{old.person_id}",
                occurred_at=at,
                payload={
                    "person": old.person_id,
                    "basis": old.pk,
                    "on": on,
                    "authority": authority,
                    "ref": ref,
                },
            )
        ],
    )
    _recalculate(actor, old, at)
    return old


@service
def protection_record(
    *, actor: Actor, basis: LegalBasis, on: dt.date, authority: str, ref: str = ""
) -> LegalBasis:
    """A court order protects the person from removal to this state (STANDARDS.md: such a
    person must never be accepted; held already, check-custody raises the alarm)."""
    old = _active(basis)
    if old.kind != LegalBasisKind.REMOVAL_ORDER:
        raise ValidationFailed(MSG_NOT_REMOVAL.format(basis=basis.pk))
    if old.removal_protection:
        raise Conflict(MSG_PROTECTED.format(basis=basis.pk))
    at = now()
    old.removal_protection = True
    old.protection_on = on
    old.save(update_fields=["removal_protection", "protection_on"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.protection_recorded",
                subject=f"person:{old.person_id}",
                occurred_at=at,
                payload={
                    "person": old.person_id,
                    "basis": old.pk,
                    "on": on,
                    "authority": authority,
                    "ref": ref,
                },
            )
        ],
    )
    return old


@service
def credit_change(
    *, actor: Actor, basis: LegalBasis, change: str, days: int, on: dt.date, reason: str
) -> CreditAdjustment:
    """Good conduct time forfeited by a disciplinary finding, or restored (18 U.S.C.
    § 3624(b)); never more forfeited than earned, never more restored than forfeited. The
    release date is recalculated in the same transaction."""
    if change not in CreditChange.values:
        raise ValidationFailed(f"unknown credit change {change!r}")
    if days <= 0:
        raise ValidationFailed(MSG_CREDIT_DAYS)
    if not reason.strip():
        raise ValidationFailed(MSG_REASON)
    old = _active(basis)
    if old.kind != LegalBasisKind.CRIMINAL_SENTENCE:
        raise ValidationFailed(MSG_NOT_SENTENCE.format(basis=basis.pk))
    if change == CreditChange.RESTORED and days > old.credit_forfeited_days:
        raise ValidationFailed(
            MSG_RESTORE_MORE.format(forfeited=old.credit_forfeited_days, basis=old.pk, days=days)
        )
    earned = good_conduct_days(old.sentence)
    if change == CreditChange.FORFEITED and old.credit_forfeited_days + days > earned:
        raise ValidationFailed(MSG_FORFEIT_MORE.format(basis=old.pk, earned=earned, days=days))
    at = now()
    adjustment = CreditAdjustment(
        basis=old, change=change, days=days, on=on, reason=reason.strip(), recorded_by=actor.name
    )
    adjustment.save()
    old.credit_forfeited_days += days if change == CreditChange.FORFEITED else -days
    old.save(update_fields=["credit_forfeited_days"])
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.credit_changed",
                subject=f"person:{old.person_id}",
                occurred_at=at,
                payload={
                    "person": old.person_id,
                    "adjustment": {
                        "id": adjustment.pk,
                        "basis": old.pk,
                        "change": change,
                        "days": days,
                        "on": on,
                        "reason": adjustment.reason,
                        "recorded_by": actor.name,
                    },
                    "forfeited_days": old.credit_forfeited_days,
                },
            )
        ],
    )
    _recalculate(actor, old, at)
    return adjustment


def basis_timeline(
    episode: CustodyEpisode, *, until: dt.date | None = None
) -> list[dict[str, Any]]:
    """Which orders held the person on each day of the episode, as runs of days with the
    same set of orders (Mandela Rule 7(b)): ``[{"from", "to", "bases": [ids]}]``; an empty
    set is a run held on no live basis."""
    bases = list(episode.legal_bases.all().order_by("pk"))
    first = episode.admitted_at.date()
    last = episode.released_at.date() if episode.released_at else (until or now().date())
    runs: list[dict[str, Any]] = []
    # The days where the set can change: admission, each order's end and the day after.
    cuts = {first}
    for b in bases:
        for d in (b.ended_on, b.ends_on + dt.timedelta(days=1) if b.ends_on else None):
            if d is not None and first < d <= last:
                cuts.add(d)
        if b.sentence_start and first < b.sentence_start <= last:
            cuts.add(b.sentence_start)
    by_id = {b.pk: b for b in bases}
    held_from = {
        b.pk: by_id[b.supersedes_id].ended_on or first for b in bases if b.supersedes_id in by_id
    }
    ordered = sorted(cuts)
    for i, start in enumerate(ordered):
        end = ordered[i + 1] - dt.timedelta(days=1) if i + 1 < len(ordered) else last
        live = [b.pk for b in bases if b.live_on(start) and start >= held_from.get(b.pk, first)]
        if runs and runs[-1]["bases"] == live:
            runs[-1]["to"] = end
        else:
            runs.append({"from": start, "to": end, "bases": live})
    return runs
