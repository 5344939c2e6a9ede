"""``check-custody``: every open episode's legal basis and release date, every day
(INTERFACES.md v1.1). Alarms of kind ``legal_basis`` extend alert A4 (Mandela Rule 7(b):
nobody is held without a valid commitment order), each with its rule and citation:

* **A4.1 release date passed** — the projected release date (:mod:`habeas.custody.release`)
  is behind us and the person is still held (18 U.S.C. § 3624(a)).
* **A4.2 removal period exceeded** — held on a removal order beyond the removal period
  (``HABEAS_REMOVAL_PERIOD_DAYS``, default 90, 8 U.S.C. § 1231(a)(1)(A)) without removal.
* **A4.3 protection order** — a court order protects the person from removal to this state
  (8 U.S.C. § 1231(b)(3); Convention against Torture art. 3): they must not be held here for
  removal.
* **A4.4 agreement ended** — the agreement the person is held under has reached the end of its
  term (STANDARDS.md: one year, pending the sending state's decision).
* **A4.5 no live basis** — no order holds the person today: every sentence served, every order
  vacated or superseded, or none recorded (the original A4).
* **A4.6 agreement ending** — a warning before A4.4: the agreement's term ends within
  ``HABEAS_AGREEMENT_NOTICE_DAYS`` (default 30) days, so the sending state's decision (renew,
  repatriate, transfer back) is taken while the person is still lawfully held (Mandela Rule
  7(b)). From the day after the term's end A4.4 replaces it.

The check first recalculates release dates whose inputs changed, then opens an alarm for
each condition that holds and has none open, and closes each open alarm whose condition
cleared: one ledger entry per opening and per closing, none when nothing changed (idempotent,
safe from cron and from the worker).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.services import service
from habeas.custody.calculations import (
    OpenState,
    latest_calculations,
    open_state,
    recalculate,
)
from habeas.custody.choices import AlarmStatus, BasisStatus, LegalBasisKind
from habeas.custody.models import CustodyAlarm, CustodyEpisode
from habeas.facilities.models import Facility
from habeas.ledger.services import Event, ledger_append_many

CHUNK = 5000


@dataclass(frozen=True)
class AlarmRule:
    id: str
    name: str
    citation: str


RULES = {
    r.id: r
    for r in (
        AlarmRule("A4.1", "release_date_passed", "18 U.S.C. § 3624(a); Mandela Rule 7(b)"),
        AlarmRule("A4.2", "removal_period_exceeded", "8 U.S.C. § 1231(a)(1)(A)"),
        AlarmRule(
            "A4.3", "protection_order", "8 U.S.C. § 1231(b)(3); Convention against Torture art. 3"
        ),
        AlarmRule("A4.4", "agreement_ended", "Mandela Rule 7(b); the agreement's term"),
        AlarmRule("A4.5", "no_live_basis", "Mandela Rule 7(b); 18 U.S.C. § 3585(b)"),
        AlarmRule("A4.6", "agreement_ending", "Mandela Rule 7(b); the agreement's term"),
    )
}


def removal_period_days() -> int:
    return int(getattr(settings, "HABEAS_REMOVAL_PERIOD_DAYS", 90))


def agreement_notice_days() -> int:
    """How many days before the end of an agreement's term A4.6 warns of it."""
    return int(getattr(settings, "HABEAS_AGREEMENT_NOTICE_DAYS", 30))


@dataclass
class CheckReport:
    episodes: int = 0
    recalculated: int = 0
    opened: list[dict[str, Any]] | None = None
    closed: list[dict[str, Any]] | None = None

    def document(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "recalculated": self.recalculated,
            "opened": self.opened or [],
            "closed": self.closed or [],
        }


def _today_by_facility(at: dt.datetime) -> dict[int, dt.date]:
    return {
        pk: timezone.localtime(at, ZoneInfo(zone)).date()
        for pk, zone in Facility.objects.values_list("pk", "timezone")
    }


def conditions_for(
    episode_ids: list[int] | None,
    at: dt.datetime,
    calculations: dict[int, tuple[str, str | None]] | None = None,
    state: OpenState | None = None,
) -> dict[tuple[int, str], tuple[dt.date, str]]:
    """(episode, rule) → (since, value) for every alarm condition that holds at ``at``, over
    the given open episodes (``None``: every open episode). ``calculations`` (episode →
    (inputs_sha, release date as text)), when the caller has just read them, spares reading
    them again. Dates are read and compared as ``YYYY-MM-DD`` text (ISO dates sort as
    dates), parsed only for the conditions found. ``state``: the episodes' rows, when the
    caller has read them (:func:`~habeas.custody.calculations.open_state`)."""
    if state is None:
        state = open_state(episode_ids)
    period = dt.timedelta(days=removal_period_days())
    day = {pk: d.isoformat() for pk, d in _today_by_facility(at).items()}
    # start + period < today  ⇔  start < today − period
    removal_due = {pk: (dt.date.fromisoformat(d) - period).isoformat() for pk, d in day.items()}
    # the term's end within the notice period: today ≤ ends ≤ today + notice
    notice = dt.timedelta(days=agreement_notice_days())
    ending_by = {pk: (dt.date.fromisoformat(d) + notice).isoformat() for pk, d in day.items()}
    found: dict[tuple[int, str], tuple[dt.date, str]] = {}
    removal = str(LegalBasisKind.REMOVAL_ORDER)
    active = str(BasisStatus.ACTIVE)
    one = dt.timedelta(days=1)
    iso = dt.date.fromisoformat
    meta: dict[int, tuple[int, str, str | None]] = {
        ep: (facility, admitted, ends)
        for ep, (_person, facility, admitted, ends, _rules, _country) in state.episodes.items()
    }
    live: set[int] = set()
    last_end: dict[int, dt.date] = {}
    rows = state.bases
    for (
        ep,
        _,
        kind,
        status,
        ends_on,
        ended_on,
        sentence,
        order_date,
        protected,
        prot_on,
        *_,
    ) in rows:
        facility, admitted, _ends = meta[ep]
        if status != active:
            if ended_on is not None:
                ended = iso(ended_on)
                last_end[ep] = max(last_end.get(ep, ended), ended - one)
            continue
        if kind == removal:
            live.add(ep)
            start = order_date or admitted
            if start < removal_due[facility]:
                found[(ep, "A4.2")] = (iso(start) + period + one, start)
            if protected:
                found[(ep, "A4.3")] = (iso(prot_on or start), "protected")
        elif (ends_on is None and sentence) or (
            ends_on is not None and ends_on >= day[facility]
        ):  # life, or an end that cannot be computed
            live.add(ep)
        elif ends_on is not None:
            ends = iso(ends_on)
            last_end[ep] = max(last_end.get(ep, ends), ends)
    for ep, (facility, admitted, agreement_ends) in meta.items():
        if ep not in live:
            end = last_end.get(ep)
            since = end + one if end is not None else iso(admitted)
            found[(ep, "A4.5")] = (since, end.isoformat() if end else "none")
        if agreement_ends is not None:
            if agreement_ends < day[facility]:
                found[(ep, "A4.4")] = (iso(agreement_ends) + one, agreement_ends)
            elif agreement_ends <= ending_by[facility]:
                found[(ep, "A4.6")] = (iso(agreement_ends) - notice, agreement_ends)
    if calculations is None:
        calculations = latest_calculations(episode_ids)
    for ep, (_sha, release) in calculations.items():
        if release is None or ep not in meta or (ep, "A4.5") in found:
            continue  # no basis at all: A4.5 says it
        if release < day[meta[ep][0]]:
            found[(ep, "A4.1")] = (iso(release) + one, release)
    return found


def alarm_snapshot(a: CustodyAlarm, person: int) -> dict[str, Any]:
    return {
        "id": a.pk,
        "episode": a.episode_id,
        "person": person,
        "rule": a.rule,
        "citation": a.citation,
        "value": a.value,
        "since": a.since,
        "opened_at": a.opened_at,
    }


def open_alarm_keys(episode_ids: list[int] | None) -> dict[tuple[int, str], int]:
    """(episode, rule) → id of every open alarm (``None``: of every episode, released or not:
    an alarm of a released episode is closed), read with plain SQL."""
    table = CustodyAlarm._meta.db_table
    sql = f"SELECT episode_id, rule, id FROM {table} WHERE status = %s"  # noqa: S608 - the model's table
    found: dict[tuple[int, str], int] = {}
    with connection.cursor() as cursor:
        if episode_ids is None:
            cursor.execute(sql, [str(AlarmStatus.OPEN)])
            while rows := cursor.fetchmany(CHUNK):
                for ep, rule, pk in rows:
                    found[(ep, rule)] = pk
            return found
        for i in range(0, len(episode_ids), CHUNK):
            part = episode_ids[i : i + CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(sql + f" AND episode_id IN ({marks})", [str(AlarmStatus.OPEN), *part])
            for ep, rule, pk in cursor.fetchall():
                found[(ep, rule)] = pk
    return found


@service
def custody_check(
    *, actor: Actor, at: dt.datetime | None = None, episode_ids: list[int] | None = None
) -> CheckReport:
    """Evaluate every open episode (or those given): recalculate release dates whose inputs
    changed, open the alarms whose condition holds, close those whose condition cleared.
    Nothing is written when nothing changed."""
    when = at or now()
    episodes = CustodyEpisode.objects.open()
    ids: list[int] | None = None
    if episode_ids is not None:
        ids = sorted(episodes.filter(pk__in=episode_ids).values_list("pk", flat=True))
    report = CheckReport(episodes=len(ids) if ids is not None else episodes.count())
    state = open_state(ids)
    made, calculations = recalculate(actor=actor, episode_ids=ids, at=when, state=state)
    report.recalculated = len(made)
    wanted = conditions_for(ids, when, calculations, state)
    open_alarms = open_alarm_keys(episode_ids)
    new = [
        CustodyAlarm(
            episode_id=ep,
            rule=rule,
            citation=RULES[rule].citation,
            value=value,
            since=since,
            opened_at=when,
        )
        for (ep, rule), (since, value) in sorted(
            item for item in wanted.items() if item[0] not in open_alarms
        )
    ]
    gone_ids = sorted(pk for key, pk in open_alarms.items() if key not in wanted)
    # Only the alarms that change are read as rows (locked): the rest stay as they are.
    gone = [
        a
        for i in range(0, len(gone_ids), CHUNK)
        for a in CustodyAlarm.objects.select_for_update()
        .filter(pk__in=gone_ids[i : i + CHUNK], status=AlarmStatus.OPEN)
        .order_by("pk")
    ]
    touched = sorted({a.episode_id for a in new} | {a.episode_id for a in gone})
    persons = {
        pk: person
        for i in range(0, len(touched), CHUNK)
        for pk, person in CustodyEpisode.objects.filter(pk__in=touched[i : i + CHUNK]).values_list(
            "pk", "person_id"
        )
    }
    events: list[Event] = []
    if new:
        new = CustodyAlarm.objects.bulk_create(new, batch_size=500)
        events += [
            Event(
                action="custody.alarm_opened",
                subject=f"person:{persons[a.episode_id]}",
                occurred_at=when,
                payload={"alarm": alarm_snapshot(a, persons[a.episode_id])},
            )
            for a in new
        ]
    for a in gone:
        a.status = AlarmStatus.CLOSED
        a.closed_at = when
    if gone:
        CustodyAlarm.objects.bulk_update(gone, ["status", "closed_at"], batch_size=500)
        events += [
            Event(
                action="custody.alarm_closed",
                subject=f"person:{persons[a.episode_id]}",
                occurred_at=when,
                payload={
                    "alarm": a.pk,
                    "person": persons[a.episode_id],
                    "rule": a.rule,
                    "closed_at": when,
                },
            )
            for a in gone
        ]
    if events:
        ledger_append_many(actor=actor, events=events)
    report.opened = [
        {"episode": a.episode_id, "person": persons[a.episode_id], "rule": a.rule} for a in new
    ]
    report.closed = [
        {"episode": a.episode_id, "person": persons[a.episode_id], "rule": a.rule} for a in gone
    ]
    return report


def open_alarms_of(episodes: Any) -> dict[int, list[CustodyAlarm]]:
    """Open alarms of the given episodes (a queryset or ids), by episode."""
    found: dict[int, list[CustodyAlarm]] = defaultdict(list)
    for a in CustodyAlarm.objects.filter(status=AlarmStatus.OPEN, episode__in=episodes):
        found[a.episode_id].append(a)
    return found
