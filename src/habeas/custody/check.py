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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.services import service
from habeas.custody.calculations import release_recalculate
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


#: Each rule's bit in the masks the evaluation compares (the conditions that hold, the open
#: alarms): an episode whose two masks agree needs nothing done.
BITS = {"A4.1": 1, "A4.2": 2, "A4.3": 4, "A4.4": 8, "A4.5": 16, "A4.6": 32}
UNKNOWN_RULE_BIT = 64


def _date_param() -> str:
    """A date parameter compared with date columns: SQLite stores dates as ``YYYY-MM-DD``
    text, PostgreSQL as dates."""
    return "CAST(%s AS DATE)" if connection.vendor == "postgresql" else "%s"


def _admitted_day() -> str:
    """The UTC day of the episode's admission, comparable with date columns."""
    if connection.vendor == "postgresql":
        return "CAST(e.admitted_at AT TIME ZONE 'UTC' AS DATE)"
    return "substr(e.admitted_at, 1, 10)"


def _evaluation_sql(at: dt.datetime, *, with_alarms: bool) -> tuple[str, list[Any]]:
    """One query over the open episodes (its WHERE clause left open for
    :func:`~habeas.custody.calculations.open_rows`): per episode, what every rule reads of
    its orders, aggregated in the database — (episode, wanted mask, open-alarm mask or 0,
    removal start, protection day, last ended, last sentence end, agreement's end, release
    date, admitted day), dates as ``YYYY-MM-DD``. Each facility's own "today" is a row of
    a ``VALUES`` list joined on the facility."""
    from habeas.custody.calculations import date_text, tables

    t = tables()
    alarms = CustodyAlarm._meta.db_table
    period = dt.timedelta(days=removal_period_days())
    notice = dt.timedelta(days=agreement_notice_days())
    days = _today_by_facility(at) or {0: timezone.localdate(at)}
    p = _date_param()
    values = ", ".join([f"(CAST(%s AS INTEGER), {p}, {p}, {p})"] * len(days))
    params: list[Any] = []
    for pk, d in sorted(days.items()):
        params += [pk, d.isoformat(), (d - period).isoformat(), (d + notice).isoformat()]
    active, removal = str(BasisStatus.ACTIVE), str(LegalBasisKind.REMOVAL_ORDER)
    adm = _admitted_day()
    live = (
        f"b.status = '{active}' AND (b.kind = '{removal}' OR (b.ends_on IS NULL AND "
        f"b.sentence <> '') OR b.ends_on >= d.today)"
    )
    have = "0"
    if with_alarms:
        cases = " ".join(f"WHEN '{rule}' THEN {bit}" for rule, bit in BITS.items())
        have = (
            f"(SELECT COALESCE(SUM(CASE al.rule {cases} ELSE {UNKNOWN_RULE_BIT} END), 0) "  # noqa: S608 - table names from the models, constants only
            f"FROM {alarms} al WHERE al.episode_id = e.id AND al.status = "
            f"'{AlarmStatus.OPEN}')"
        )
    inner = (
        f"SELECT e.id AS ep, d.today AS today, d.removal_due AS removal_due, "  # noqa: S608 - table names from the models, constants only
        f"d.ending_by AS ending_by, a.ends AS ends, {adm} AS admitted, "
        f"MAX(CASE WHEN {live} THEN 1 ELSE 0 END) AS live, "
        f"MIN(CASE WHEN b.status = '{active}' AND b.kind = '{removal}' "
        f"THEN COALESCE(b.order_date, {adm}) END) AS removal_start, "
        f"MIN(CASE WHEN b.status = '{active}' AND b.kind = '{removal}' AND "
        f"b.removal_protection THEN COALESCE(b.protection_on, b.order_date, {adm}) END) "
        f"AS protected_on, "
        f"MAX(CASE WHEN b.status <> '{active}' THEN b.ended_on END) AS last_ended, "
        f"MAX(CASE WHEN b.status = '{active}' AND b.kind <> '{removal}' AND "
        f"b.ends_on < d.today THEN b.ends_on END) AS last_ends, "
        f"(SELECT c.release_date FROM {t['calculation']} c WHERE c.episode_id = e.id "
        f"ORDER BY c.id DESC LIMIT 1) AS release, {have} AS have "
        f"FROM {t['episode']} e JOIN days d ON d.facility_id = e.facility_id "
        f"LEFT JOIN {t['agreement']} a ON a.id = e.agreement_id "
        f"LEFT JOIN {t['link']} l ON l.custodyepisode_id = e.id "
        f"LEFT JOIN {t['basis']} b ON b.id = l.legalbasis_id "
        f"WHERE 1 = 1 {{where}} "
        f"GROUP BY e.id, d.today, d.removal_due, d.ending_by, a.ends, e.admitted_at"
    )
    wanted = (
        "(CASE WHEN x.live = 1 AND x.release < x.today THEN 1 ELSE 0 END"
        " + CASE WHEN x.removal_start < x.removal_due THEN 2 ELSE 0 END"
        " + CASE WHEN x.protected_on IS NOT NULL THEN 4 ELSE 0 END"
        " + CASE WHEN x.ends < x.today THEN 8 ELSE 0 END"
        " + CASE WHEN x.live = 1 THEN 0 ELSE 16 END"
        " + CASE WHEN x.ends >= x.today AND x.ends <= x.ending_by THEN 32 ELSE 0 END)"
    )
    sql = (
        f"WITH days (facility_id, today, removal_due, ending_by) AS (VALUES {values}) "  # noqa: S608 - table names from the models, constants only
        f"SELECT * FROM (SELECT x.ep, {wanted} AS wanted, x.have, "
        f"{date_text('x.removal_start')}, {date_text('x.protected_on')}, "
        f"{date_text('x.last_ended')}, {date_text('x.last_ends')}, {date_text('x.ends')}, "
        f"{date_text('x.release')}, {date_text('x.admitted')} FROM ({inner}) x) y "
        f"WHERE y.wanted <> y.have"
    )
    return sql, params


def _evaluate(
    episode_ids: Sequence[int] | None, at: dt.datetime, *, with_alarms: bool
) -> Iterator[tuple[int, int, int, tuple[Any, ...]]]:
    """(episode, wanted mask, open-alarm mask, values) of each open episode (``None``: every
    one) whose masks differ; without ``with_alarms`` the open-alarm mask is 0: every episode
    where some condition holds."""
    sql, params = _evaluation_sql(at, with_alarms=with_alarms)
    with connection.cursor() as cursor:
        if episode_ids is None:
            cursor.execute(sql.replace("{where}", "AND e.released_at IS NULL"), params)
            while rows := cursor.fetchmany(CHUNK):
                for ep, wanted, have, *values in rows:
                    yield ep, wanted, have, tuple(values)
            return
        ids = sorted(set(episode_ids))
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                sql.replace("{where}", f"AND e.released_at IS NULL AND e.id IN ({marks})"),
                [*params, *part],
            )
            for ep, wanted, have, *values in cursor.fetchall():
                yield ep, wanted, have, tuple(values)


def _conditions_of(wanted: int, values: tuple[Any, ...]) -> dict[str, tuple[dt.date, str]]:
    """Rule → (since, value) of each condition in ``wanted``, from the values the
    evaluation read (dates as ``YYYY-MM-DD``)."""
    removal_start, protected_on, last_ended, last_ends, ends, release, admitted = values
    iso = dt.date.fromisoformat
    one = dt.timedelta(days=1)
    found: dict[str, tuple[dt.date, str]] = {}
    if wanted & 1:
        found["A4.1"] = (iso(release) + one, release)
    if wanted & 2:
        period = dt.timedelta(days=removal_period_days())
        found["A4.2"] = (iso(removal_start) + period + one, removal_start)
    if wanted & 4:
        found["A4.3"] = (iso(protected_on), "protected")
    if wanted & 8:
        found["A4.4"] = (iso(ends) + one, ends)
    if wanted & 16:
        ended = [iso(last_ended) - one] if last_ended else []
        ended += [iso(last_ends)] if last_ends else []
        end = max(ended) if ended else None
        since = end + one if end is not None else iso(admitted)
        found["A4.5"] = (since, end.isoformat() if end else "none")
    if wanted & 32:
        found["A4.6"] = (iso(ends) - dt.timedelta(days=agreement_notice_days()), ends)
    return found


def conditions_for(
    episode_ids: list[int] | None, at: dt.datetime
) -> dict[tuple[int, str], tuple[dt.date, str]]:
    """(episode, rule) → (since, value) for every alarm condition that holds at ``at``, over
    the given open episodes (``None``: every open episode): the alerts' live view, from the
    same evaluation ``check-custody`` opens and closes alarms by."""
    found: dict[tuple[int, str], tuple[dt.date, str]] = {}
    for ep, wanted, _have, values in _evaluate(episode_ids, at, with_alarms=False):
        for rule, condition in _conditions_of(wanted, values).items():
            found[(ep, rule)] = condition
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


def _released_open_alarms(episode_ids: list[int] | None) -> list[int]:
    """Ids of the open alarms of released episodes (closed by the check: nobody is held)."""
    episodes = CustodyEpisode.objects.filter(released_at__isnull=False)
    alarms = CustodyAlarm.objects.filter(status=AlarmStatus.OPEN)
    if episode_ids is None:
        return list(alarms.filter(episode__in=episodes).values_list("pk", flat=True))
    ids = sorted(set(episode_ids))
    return [
        pk
        for i in range(0, len(ids), CHUNK)
        for pk in alarms.filter(episode__in=episodes.filter(pk__in=ids[i : i + CHUNK])).values_list(
            "pk", flat=True
        )
    ]


@service
def custody_check(
    *, actor: Actor, at: dt.datetime | None = None, episode_ids: list[int] | None = None
) -> CheckReport:
    """Evaluate every open episode (or those given): recalculate release dates whose inputs
    changed, open the alarms whose condition holds, close those whose condition cleared.
    Nothing is written when nothing changed.

    Set-based: the database aggregates, per episode, what each rule reads of its orders and
    compares the conditions that hold with the open alarms (one bit per rule); only the
    episodes where the two differ come back, and only their alarms are read as rows."""
    when = at or now()
    episodes = CustodyEpisode.objects.open()
    ids: list[int] | None = None
    if episode_ids is not None:
        ids = sorted(episodes.filter(pk__in=episode_ids).values_list("pk", flat=True))
    report = CheckReport(episodes=len(ids) if ids is not None else episodes.count())
    made = release_recalculate(actor=actor, episode_ids=ids, at=when)
    report.recalculated = len(made)
    wanted: dict[tuple[int, str], tuple[dt.date, str]] = {}
    differing: list[int] = []
    if ids is None or ids:
        for ep, mask, _have, values in _evaluate(ids, when, with_alarms=True):
            differing.append(ep)
            for rule, condition in _conditions_of(mask, values).items():
                wanted[(ep, rule)] = condition
    open_alarms: dict[tuple[int, str], int] = {}
    for i in range(0, len(differing), CHUNK):
        for ep, rule, pk in CustodyAlarm.objects.filter(
            status=AlarmStatus.OPEN, episode_id__in=differing[i : i + CHUNK]
        ).values_list("episode_id", "rule", "pk"):
            open_alarms[(ep, rule)] = pk
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
    gone_ids = sorted(
        [pk for key, pk in open_alarms.items() if key not in wanted]
        + _released_open_alarms(episode_ids)
    )
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
    if episode_ids is None:
        # The daily safety net of the conditions kept as events happen: once a date has
        # passed (a new day key); within the day the listeners keep them current.
        from habeas.custody.standing import standing_refresh, standing_stale

        if standing_stale(when):
            standing_refresh(when)
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
