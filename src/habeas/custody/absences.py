"""Temporary absences: someone held leaves the facility for a while without leaving custody
(court, hospital, a medical appointment, a funeral or a relative's bedside, other).

Mandela Rule 7(c) and Rule 8(a): the day and hour of every movement out and back, where to
and on whose authority; Rule 70: compassionate leave to a critically ill relative's bedside
or a funeral, "either under escort or alone"; Rule 6: every change on the ledger
(``custody.absence_started``, ``custody.absence_ended``, each in its service's transaction).
The HMPPS establishment roll counts such people "out" (court, hospital, other) and not "in
cell"; they keep their placement, so working capacity still counts their bed.

Rules the services enforce (refusals are ``habeas.core.errors``, nothing is written):

* only someone in custody can leave, and only once at a time (at most one open absence per
  episode, also a database constraint);
* times are never in the future (beyond the clock-skew grace of ``custody.services``), an
  absence starts after the admission and after the previous absence ended, and ends at or
  after its start; the expected return, when given, is not before the start;
* a return is recorded once; an absence still open when custody ends is closed by the
  release itself, at the release time (see ``custody.services.custody_release``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from habeas.accounts.permissions import may_view_cells
from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import Conflict, NotFound, ValidationFailed
from habeas.core.services import service
from habeas.custody.choices import AbsenceEnd, AbsenceKind, ReleaseReason
from habeas.custody.models import CustodyEpisode, TemporaryAbsence
from habeas.ledger.services import Event, ledger_append_many
from habeas.people.models import Person

#: Grace for clock skew between the recording device and the server (as ``custody.services``).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

MSG_NOT_HELD = "person {person} is not in custody: only someone held can be recorded as out"
MSG_ALREADY_OUT = (
    "person {person} is already out ({kind}, since {since}): record their return first"
)
MSG_ALREADY_ENDED = "absence {absence} has already ended ({at})"
MSG_KIND = "unknown absence kind {kind!r}; one of: {kinds}"
MSG_OTHER_NEEDS_TEXT = "an absence of kind 'other' needs a description of what it is"
MSG_NEEDS = "an absence needs {what}"
MSG_FUTURE = "{what} is in the future ({at})"
MSG_BEFORE = "{what} ({at}) is before {other} ({other_at})"
MSG_EXPECTED_BEFORE = "the expected return ({at}) is before the departure ({start})"
MSG_NOT_FOUND = "absence not found"
MSG_CUSTODY_ENDED = "absence {absence} belongs to a custody episode that has ended"
MSG_RELEASE_WHILE_OUT = (
    "person {person} is out ({kind}, since {since}): record their return before a release "
    "for {reason!r}; only {allowed} can be recorded while the person is out"
)

#: Release reasons that may end custody while the person is out, closing the absence at the
#: release time: a court releases someone at the hearing (HMPPS "discharged from court"); a
#: death in hospital (Mandela Rule 71: reported at once, never held back until a "return");
#: a sentence that ends while the person is in hospital; a transfer straight from court or
#: hospital to another facility. Repatriation, return to the sending state and "other" are
#: handovers carried out from the facility, so the return is recorded first.
RELEASE_WHILE_OUT = frozenset(
    {
        ReleaseReason.COURT_ORDER,
        ReleaseReason.DEATH,
        ReleaseReason.SENTENCE_SERVED,
        ReleaseReason.TRANSFERRED,
    }
)

#: Field lengths of :class:`TemporaryAbsence` (refused, not cut, when longer).
MAX_TEXT = 200


def _not_future(at: dt.datetime, what: str) -> None:
    if at > now() + FUTURE_TOLERANCE:
        raise ValidationFailed(MSG_FUTURE.format(what=what, at=at.isoformat()))


def _required(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(MSG_NEEDS.format(what=what))
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"{what} is longer than {MAX_TEXT} characters")
    return value


def _optional(value: str, what: str) -> str:
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"{what} is longer than {MAX_TEXT} characters")
    return value


def absence_snapshot(absence: TemporaryAbsence) -> dict[str, Any]:
    """The ``custody.absence_started`` payload: everything the row holds when it opens."""
    return {
        "id": absence.pk,
        "episode": absence.episode_id,
        "kind": absence.kind,
        "kind_other": absence.kind_other,
        "destination": absence.destination,
        "authority": absence.authority,
        "reason": absence.reason,
        "escort": absence.escort,
        "started_at": absence.started_at,
        "expected_return_at": absence.expected_return_at,
        "recorded_by": absence.recorded_by,
    }


def ended_snapshot(absence: TemporaryAbsence) -> dict[str, Any]:
    """How an absence closed (``custody.absence_ended``, or inside ``custody.released``)."""
    return {
        "id": absence.pk,
        "episode": absence.episode_id,
        "ended_at": absence.ended_at,
        "how": absence.ended_how,
        "ended_by": absence.ended_by,
    }


def open_absence(episode: CustodyEpisode, *, lock: bool = False) -> TemporaryAbsence | None:
    """The episode's open absence, if the person is out (locked for update with ``lock``)."""
    qs = TemporaryAbsence.objects.filter(episode=episode, ended_at__isnull=True)
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def last_return(episode: CustodyEpisode) -> dt.datetime | None:
    """When the person last came back from an absence of this episode (None if never out)."""
    return (
        TemporaryAbsence.objects.filter(episode=episode, ended_at__isnull=False)
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )


@service
def absence_start(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    destination: str,
    authority: str,
    started_at: dt.datetime,
    expected_return_at: dt.datetime | None = None,
    escort: str = "",
    reason: str = "",
    kind_other: str = "",
) -> TemporaryAbsence:
    """Record that a person held leaves the facility for a while (Mandela Rule 7(c), 8(a);
    Rule 70 for a funeral or a relative's bedside): where to, on whose authority, with which
    escort (empty: unescorted, as Rule 70 allows), since when and, if known, until when.
    The placement is kept. One ``custody.absence_started`` entry."""
    if kind not in AbsenceKind.values:
        raise ValidationFailed(MSG_KIND.format(kind=kind, kinds=", ".join(AbsenceKind.values)))
    kind_other = _optional(kind_other, "the description of the kind")
    if kind == AbsenceKind.OTHER and not kind_other:
        raise ValidationFailed(MSG_OTHER_NEEDS_TEXT)
    if kind != AbsenceKind.OTHER:
        kind_other = ""
    destination = _required(destination, "a destination")
    authority = _required(authority, "the authority that ordered or authorised it")
    escort = _optional(escort, "the escort")
    _not_future(started_at, "the departure")
    if expected_return_at is not None and expected_return_at < started_at:
        raise ValidationFailed(
            MSG_EXPECTED_BEFORE.format(
                at=expected_return_at.isoformat(), start=started_at.isoformat()
            )
        )
    # The episode row is the lock: two officers recording the same departure queue here and
    # the second gets a clear 409 rather than the one-open-absence constraint.
    episode = CustodyEpisode.objects.locked_open_for(person)
    if episode is None:
        raise Conflict(MSG_NOT_HELD.format(person=person.pk))
    current = open_absence(episode)
    if current is not None:
        raise Conflict(
            MSG_ALREADY_OUT.format(
                person=person.pk, kind=current.kind, since=current.started_at.isoformat()
            )
        )
    if started_at < episode.admitted_at:
        raise ValidationFailed(
            MSG_BEFORE.format(
                what="the departure",
                at=started_at.isoformat(),
                other="the admission",
                other_at=episode.admitted_at.isoformat(),
            )
        )
    returned = last_return(episode)
    if returned is not None and started_at < returned:
        raise ValidationFailed(
            MSG_BEFORE.format(
                what="the departure",
                at=started_at.isoformat(),
                other="the return from the previous absence",
                other_at=returned.isoformat(),
            )
        )
    absence = TemporaryAbsence(
        episode=episode,
        kind=kind,
        kind_other=kind_other,
        destination=destination,
        authority=authority,
        reason=reason.strip(),
        escort=escort,
        started_at=started_at,
        expected_return_at=expected_return_at,
        recorded_by=actor.name,
    )
    absence.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.absence_started",
                subject=f"person:{person.pk}",
                occurred_at=started_at,
                payload={
                    "person": person.pk,
                    "facility": episode.facility.code,
                    "absence": absence_snapshot(absence),
                },
            )
        ],
    )
    return absence


@service
def absence_end(
    *, actor: Actor, absence: TemporaryAbsence, returned_at: dt.datetime
) -> TemporaryAbsence:
    """Record the person's return to the facility (Mandela Rule 7(c): the day and hour of
    every movement). One ``custody.absence_ended`` entry."""
    _not_future(returned_at, "the return")
    # Same lock order as the release (episode, then absence): a return and a release of the
    # same person never interleave.
    episode = (
        CustodyEpisode.objects.select_for_update()
        .filter(pk=absence.episode_id)
        .select_related("person")
        .first()
    )
    locked = TemporaryAbsence.objects.select_for_update().filter(pk=absence.pk).first()
    if episode is None or locked is None:
        raise NotFound(MSG_NOT_FOUND)
    if episode.released_at is not None:
        raise Conflict(MSG_CUSTODY_ENDED.format(absence=locked.pk))
    if locked.ended_at is not None:
        raise Conflict(MSG_ALREADY_ENDED.format(absence=locked.pk, at=locked.ended_at.isoformat()))
    _close(locked, at=returned_at, how=AbsenceEnd.RETURNED, actor=actor, what="the return")
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="custody.absence_ended",
                subject=f"person:{episode.person_id}",
                occurred_at=returned_at,
                payload={"person": episode.person_id, "absence": ended_snapshot(locked)},
            )
        ],
    )
    return locked


def absence_close_on_release(
    *, actor: Actor, episode: CustodyEpisode, reason: str, at: dt.datetime
) -> dict[str, Any] | None:
    """Inside ``custody_release`` (its transaction, the episode already locked): close the
    open absence at the release time when ``reason`` may end custody while out
    (:data:`RELEASE_WHILE_OUT`), refuse otherwise; also refuse a release dated before the
    person's departure or last return, which would put the release inside an absence. Returns
    what goes into the ``custody.released`` payload (``absence_ended``), or None."""
    current = open_absence(episode, lock=True)
    if current is None:
        returned = last_return(episode)
        if returned is not None and at < returned:
            raise ValidationFailed(
                MSG_BEFORE.format(
                    what="the release",
                    at=at.isoformat(),
                    other="the return from the last absence",
                    other_at=returned.isoformat(),
                )
            )
        return None
    if reason not in RELEASE_WHILE_OUT:
        raise Conflict(
            MSG_RELEASE_WHILE_OUT.format(
                person=episode.person_id,
                kind=current.kind,
                since=current.started_at.isoformat(),
                reason=reason,
                allowed=", ".join(sorted(RELEASE_WHILE_OUT)),
            )
        )
    _close(current, at=at, how=AbsenceEnd.RELEASED, actor=actor, what="the release")
    return ended_snapshot(current)


def _close(
    absence: TemporaryAbsence, *, at: dt.datetime, how: str, actor: Actor, what: str
) -> None:
    """End an open absence at ``at`` (never before the departure), by return or release."""
    if at < absence.started_at:
        raise ValidationFailed(
            MSG_BEFORE.format(
                what=what,
                at=at.isoformat(),
                other="the departure",
                other_at=absence.started_at.isoformat(),
            )
        )
    absence.ended_at = at
    absence.ended_how = how
    absence.ended_by = actor.name
    absence.save(update_fields=["ended_at", "ended_how", "ended_by"])


# --- reads ----------------------------------------------------------------------------------


def absence_list_for(*, user: Any, person: Person) -> Any:
    """The person's absences the user may see, newest first: the receiving facility's staff
    for the episodes in their facilities, oversight and auditors all; never a sending state's
    liaison or finance officer (movements and hospital visits are housing detail, Mandela
    Rule 9)."""
    if not may_view_cells(user):
        return TemporaryAbsence.objects.none()
    return (
        TemporaryAbsence.objects.filter(
            episode__person=person, episode__in=CustodyEpisode.objects.visible_to(user)
        )
        .select_related("episode__facility")
        .order_by("-started_at", "-pk")
    )


def absence_get_for(*, user: Any, person: Person, absence_id: int | str) -> TemporaryAbsence:
    """One of the person's absences, or the same 404 for missing and out of scope."""
    try:
        pk = int(absence_id)
    except (TypeError, ValueError):
        raise NotFound(MSG_NOT_FOUND) from None
    absence = absence_list_for(user=user, person=person).filter(pk=pk).first()
    if absence is None:
        raise NotFound(MSG_NOT_FOUND)
    return absence


def current_absence(person: Person) -> TemporaryAbsence | None:
    """The open absence of the person's open episode, unscoped (callers scope)."""
    return (
        TemporaryAbsence.objects.filter(
            episode__person=person, episode__released_at__isnull=True, ended_at__isnull=True
        )
        .select_related("episode__facility")
        .first()
    )


def absence_brief(person: Person) -> dict[str, Any] | None:
    """The ``absence`` of the ``show --json`` document: where the person is while out of the
    facility and since when (null while they are in), e.g. "out at court since …"."""
    absence = current_absence(person)
    if absence is None:
        return None
    return {
        "kind": absence.kind,
        "destination": absence.destination,
        "since": absence.started_at,
        "expected_return_at": absence.expected_return_at,
    }
