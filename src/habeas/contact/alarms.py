"""The ``no_contact`` alarm (rule A8, :mod:`habeas.conditions.alerts`): someone cut off from
the outside (Mandela Rules 58(1), 62(1); VCCR art. 36(1)).

* **A8.1** — nobody has seen, called or written to the person for ``HABEAS_NO_CONTACT_DAYS``
  days (default 30): no visit that took place, no call, no letter since the last contact, or
  since admission when there was never one (Rule 58(1): contact at regular intervals).
* **A8.2** — a foreign national whose consulate has been neither notified (a consular notice
  delivered) nor in contact within ``HABEAS_CONSULAR_NOTICE_DAYS`` days of admission (default
  3; VCCR art. 36(1)(b): "without delay").
* **A8.3** — a consular officer asked to visit and has had no visit ``HABEAS_CONSULAR_ACCESS_DAYS``
  days after asking (default 7), or was refused and has had none since (VCCR art. 36(1)(c)).

Computed, not stored, like every alert: each opens while its condition holds and closes when
contact is recorded. A8.1 and A8.2 are found in one pass over the open episodes joined to the
last contact the contact services keep per person (:class:`~habeas.contact.models.LastContact`):
one set-based query that returns only the people cut off (:func:`scan`); the consular notices
of those few are then read in bulk. A8.3 is one query over the people a consul asked to visit.
Scope: the person's (a liaison sees the alarm of the people their state sent, as with
``legal_basis``; never who visited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from habeas.accounts.permissions import scope_of
from habeas.conditions.alerts import Alert
from habeas.contact.choices import PENDING, VisitKind, VisitStatus
from habeas.contact.models import LastContact, Visit
from habeas.core.canonical import plain
from habeas.core.clock import now
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.notifications.choices import Audience, DeliveryStatus
from habeas.notifications.models import Delivery
from habeas.people.models import Person

NAME_FIELDS = ("person__given_names", "person__first_surname", "person__second_surname")


def no_contact_days() -> int:
    return int(getattr(settings, "HABEAS_NO_CONTACT_DAYS", 30))


def consular_notice_days() -> int:
    return int(getattr(settings, "HABEAS_CONSULAR_NOTICE_DAYS", 3))


def consular_access_days() -> int:
    return int(getattr(settings, "HABEAS_CONSULAR_ACCESS_DAYS", 7))


def _episodes(facilities: list[Facility], user: Any) -> Any:
    base = CustodyEpisode.objects.all() if user is None else CustodyEpisode.objects.visible_to(user)
    return base.open().filter(facility__in=facilities)


def _last(field: str) -> Subquery:
    return Subquery(LastContact.objects.filter(person_id=OuterRef("person_id")).values(field)[:1])


def _name(row: dict[str, Any]) -> str:
    return " ".join(p for p in (row[f] for f in NAME_FIELDS) if p)


def _row(person_id: int, facility_id: int, codes: dict[int, str], names: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "facility__code": codes.get(facility_id, ""),
        **dict(zip(NAME_FIELDS, names, strict=True)),
    }


def _alert(row: dict[str, Any], rule: str, value: str, since: Any, message: str) -> Alert:
    return Alert(
        kind="no_contact",
        facility=row["facility__code"],
        subject=f"person:{row['person_id']}",
        label=_name(row),
        value=value,
        since=since,
        message=message,
        person_id=row["person_id"],
        rule_id=rule,
    )


def access_withheld(episodes: Any, at: dt.datetime) -> list[dict[str, Any]]:
    """A8.3's rows: the oldest consular visit asked for (since admission) still not held after
    the access period, or refused, with no consular contact since it was asked for."""
    cutoff = at - dt.timedelta(days=consular_access_days())
    asked = (
        Visit.objects.filter(
            person_id=OuterRef("person_id"),
            kind=VisitKind.CONSULAR,
            requested_at__gte=OuterRef("admitted_at"),
        )
        .filter(Q(status__in=PENDING, requested_at__lt=cutoff) | Q(status=VisitStatus.REFUSED))
        .order_by("requested_at")
        .values("requested_at")[:1]
    )
    return list(
        episodes.filter(
            person_id__in=Visit.objects.filter(kind=VisitKind.CONSULAR).values("person_id")
        )
        .annotate(asked=Subquery(asked), consular=_last("last_consular_at"))
        .filter(asked__isnull=False)
        .filter(Q(consular__isnull=True) | Q(consular__lt=F("asked")))
        .values("person_id", "asked", "facility__code", *NAME_FIELDS)
        .order_by("person_id")
    )


def no_contact_alerts(facilities: list[Facility], user: Any, with_since: bool) -> list[Alert]:
    """The open ``no_contact`` alarms in ``facilities`` that ``user`` may see (registered with
    :func:`habeas.conditions.alerts.register_source`)."""
    everything = user is None or scope_of(user).everything
    return evaluate(_episodes(facilities, user), facilities, scoped=not everything)


def _instant(value: Any) -> dt.datetime | None:
    """A datetime column read by a raw query: SQLite gives UTC text, PostgreSQL an aware
    value."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def scan(
    episodes: Any, facilities: list[Facility], at: dt.datetime, *, scoped: bool = True
) -> list[tuple[Any, ...]]:
    """A8.1's rows and A8.2's candidates in one pass over the open episodes in
    ``facilities`` (narrowed to ``episodes`` when ``scoped``), each joined to its person's
    last contact: ``(episode, person, facility, admitted, last contact, is A8.2 candidate,
    given names, first surname, second surname)``, by person. Only the
    rows cut off leave the database: those with no contact since the limit, and the foreign
    nationals (no nationality of the facility's state) admitted before the notice period
    whose consulate has not been in contact since admission."""
    if not facilities:
        return []
    op = connection.ops
    qn = connection.ops.quote_name
    cutoff = op.adapt_datetimefield_value(at - dt.timedelta(days=no_contact_days()))
    notice = op.adapt_datetimefield_value(at - dt.timedelta(days=consular_notice_days()))
    e, lc, p = (qn(m._meta.db_table) for m in (CustodyEpisode, LastContact, Person))
    params: list[Any] = []
    # The person's nationalities, read only for the few rows that reach this test: a
    # non-empty list holding no nationality of the facility's state.
    foreign = []
    for facility in facilities:
        foreign.append("(e.facility_id = %s AND n.nat LIKE %s AND n.nat NOT LIKE %s)")
        params += [facility.pk, '%"%', f'%"{facility.jurisdiction.code}"%']
    # Table names from the models' metadata, values as parameters.
    nat = (
        f"EXISTS (SELECT 1 FROM (SELECT CAST(nationalities AS TEXT) AS nat FROM {p} "  # noqa: S608
        f"WHERE id = e.person_id) n WHERE {' OR '.join(foreign)})"
    )
    candidate = (
        "(e.admitted_at < %s AND (l.last_consular_at IS NULL OR "
        f"l.last_consular_at < e.admitted_at) AND {nat})"
    )
    where = [
        "e.released_at IS NULL",
        f"e.facility_id IN ({', '.join(['%s'] * len(facilities))})",
    ]
    where_params: list[Any] = [f.pk for f in facilities]
    if scoped:
        sub, sub_params = episodes.order_by().values("pk").query.sql_with_params()
        where.append(f"e.id IN ({sub})")
        where_params += list(sub_params)
    where.append(f"(COALESCE(l.last_contact_at, e.admitted_at) < %s OR {candidate})")
    where_params += [cutoff, notice, *params]
    sql = (
        f"SELECT e.id, e.person_id, e.facility_id, e.admitted_at, l.last_contact_at,"  # noqa: S608
        f" CASE WHEN {candidate} THEN 1 ELSE 0 END, "
        "p.given_names, p.first_surname, p.second_surname "
        f"FROM {e} e LEFT JOIN {lc} l ON l.person_id = e.person_id "
        f"JOIN {p} p ON p.id = e.person_id WHERE {' AND '.join(where)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [notice, *params, *where_params])
        rows = cursor.fetchall()
    return sorted(
        ((r[0], r[1], r[2], _instant(r[3]), _instant(r[4]), bool(r[5]), *r[6:]) for r in rows),
        key=lambda r: r[1],
    )


def _notified(episode_ids: list[int]) -> set[int]:
    """The episodes among ``episode_ids`` whose consulate was sent a notice, read in chunks."""
    found: set[int] = set()
    for i in range(0, len(episode_ids), 900):
        found.update(
            Delivery.objects.filter(
                episode_id__in=episode_ids[i : i + 900],
                audience=Audience.CONSULAR,
                status=DeliveryStatus.SENT,
            ).values_list("episode_id", flat=True)
        )
    return found


def evaluate(episodes: Any, facilities: list[Facility], *, scoped: bool = True) -> list[Alert]:
    """A8.1-A8.3 over ``episodes`` (open, in ``facilities``; ``scoped=False`` when they are
    every open episode of ``facilities``)."""
    at = now()
    found = []
    limit = no_contact_days()
    notice = consular_notice_days()
    facilities = list(
        Facility.objects.filter(pk__in=[f.pk for f in facilities]).select_related("jurisdiction")
    )
    codes = {f.pk: f.code for f in facilities}
    rows = scan(episodes, facilities, at, scoped=scoped)
    cutoff = at - dt.timedelta(days=limit)
    never = _("%(name)s has had no visit, call or letter since admission %(days)s days ago")
    stale = _("%(name)s has had no visit, call or letter for %(days)s days")
    candidates = []
    for row in rows:
        _episode, person_id, facility_id, admitted, last, a82 = row[:6]
        reference = last or admitted
        if reference < cutoff:
            values = _row(person_id, facility_id, codes, row[6:])
            days = (at - reference).days
            message = (stale if last else never) % {"name": _name(values), "days": days}
            since = reference + dt.timedelta(days=limit)
            found.append(_alert(values, "A8.1", str(days), since, message))
        if a82:
            candidates.append(row)
    notified = _notified([row[0] for row in candidates])
    told = _(
        "The consulate of %(name)s was neither notified nor in contact within "
        "%(days)s days of admission (VCCR art. 36(1)(b))"
    )
    for row in candidates:
        if row[0] in notified:
            continue
        values = _row(row[1], row[2], codes, row[6:])
        since = row[3] + dt.timedelta(days=notice)
        message = told % {"name": _name(values), "days": notice}
        found.append(_alert(values, "A8.2", "not_notified", since, message))
    access = consular_access_days()
    for asked in access_withheld(episodes, at):
        found.append(
            _alert(
                asked,
                "A8.3",
                "no_access",
                asked["asked"],
                _(
                    "A consular officer asked to visit %(name)s and has had no visit within "
                    "%(days)s days (VCCR art. 36(1)(c))"
                )
                % {"name": _name(asked), "days": access},
            )
        )
    return found


def no_contact_count(facilities: list[Facility]) -> int:
    """How many alarms :func:`no_contact_alerts` lists for the server itself, counted from the
    same rows (:func:`scan`, the consular notices, :func:`access_withheld`) without writing
    a message or a name: the statistics need the number only."""
    if not facilities:
        return 0
    at = now()
    facilities = list(
        Facility.objects.filter(pk__in=[f.pk for f in facilities]).select_related("jurisdiction")
    )
    episodes = _episodes(facilities, None)
    rows = scan(episodes, facilities, at, scoped=False)
    cutoff = at - dt.timedelta(days=no_contact_days())
    cut_off = sum(1 for row in rows if (row[4] or row[3]) < cutoff)
    candidates = [row[0] for row in rows if row[5]]
    notified = _notified(candidates)
    unnotified = sum(1 for episode in candidates if episode not in notified)
    return cut_off + unnotified + len(access_withheld(episodes, at))


def person_no_contact(person: Any) -> list[dict[str, Any]]:
    """The person's open ``no_contact`` alarms for their file and ``show`` (registered in
    :mod:`habeas.core.alarms`)."""
    episode = CustodyEpisode.objects.open().filter(person=person).first()
    if episode is None:
        return []
    alerts = evaluate(CustodyEpisode.objects.filter(pk=episode.pk), [episode.facility])
    return [
        plain(
            {
                "kind": a.kind,
                "message": a.message,
                "since": a.since,
                "rule": a.rule_id,
                "citation": a.rule.citation,
            }
        )
        for a in alerts
    ]
