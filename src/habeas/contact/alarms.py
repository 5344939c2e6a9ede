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
contact is recorded. Each is one set-based query over the open episodes, reading the last
contact the contact services keep per person (:class:`~habeas.contact.models.LastContact`).
Scope: the person's (a liaison sees the alarm of the people their state sent, as with
``legal_basis``; never who visited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from habeas.conditions.alerts import Alert
from habeas.contact.choices import PENDING, VisitKind, VisitStatus
from habeas.contact.models import LastContact, Visit
from habeas.core.canonical import plain
from habeas.core.clock import now
from habeas.custody.models import CustodyEpisode
from habeas.facilities.models import Facility
from habeas.notifications.choices import Audience, DeliveryStatus
from habeas.notifications.models import Delivery

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


def cut_off(episodes: Any, at: dt.datetime) -> list[dict[str, Any]]:
    """A8.1's rows: open episodes whose last contact (or admission) is older than the limit."""
    cutoff = at - dt.timedelta(days=no_contact_days())
    return list(
        episodes.annotate(last=_last("last_contact_at"))
        .annotate(since_contact=Coalesce(F("last"), F("admitted_at")))
        .filter(since_contact__lt=cutoff)
        .values("person_id", "admitted_at", "last", "facility__code", *NAME_FIELDS)
        .order_by("person_id")
    )


def not_notified(episodes: Any, facility: Facility, at: dt.datetime) -> list[dict[str, Any]]:
    """A8.2's rows in one facility: foreign nationals (no nationality of the facility's state)
    admitted before the notice period whose consulate was neither told nor in contact."""
    own = f'"{facility.jurisdiction.code}"'
    delivered = Delivery.objects.filter(
        episode_id=OuterRef("pk"), audience=Audience.CONSULAR, status=DeliveryStatus.SENT
    )
    return list(
        episodes.filter(
            facility=facility, admitted_at__lt=at - dt.timedelta(days=consular_notice_days())
        )
        .annotate(nat=Cast("person__nationalities", output_field=TextField()))
        .exclude(nat__contains=own)
        .exclude(nat__in=["[]", ""])
        .annotate(consular=_last("last_consular_at"))
        .filter(Q(consular__isnull=True) | Q(consular__lt=F("admitted_at")))
        .filter(~Exists(delivered))
        .values("person_id", "admitted_at", "facility__code", *NAME_FIELDS)
        .order_by("person_id")
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
    return evaluate(_episodes(facilities, user), facilities)


def evaluate(episodes: Any, facilities: list[Facility]) -> list[Alert]:
    """A8.1-A8.3 over ``episodes`` (open, in ``facilities``)."""
    at = now()
    found = []
    limit = no_contact_days()
    for row in cut_off(episodes, at):
        last = row["last"]
        since = (last or row["admitted_at"]) + dt.timedelta(days=limit)
        days = (at - (last or row["admitted_at"])).days
        name = _name(row)
        if last is None:
            message = _(
                "%(name)s has had no visit, call or letter since admission %(days)s days ago"
            )
        else:
            message = _("%(name)s has had no visit, call or letter for %(days)s days")
        found.append(_alert(row, "A8.1", str(days), since, message % {"name": name, "days": days}))
    notice = consular_notice_days()
    for facility in Facility.objects.filter(pk__in=[f.pk for f in facilities]).select_related(
        "jurisdiction"
    ):
        for row in not_notified(episodes, facility, at):
            since = row["admitted_at"] + dt.timedelta(days=notice)
            found.append(
                _alert(
                    row,
                    "A8.2",
                    "not_notified",
                    since,
                    _(
                        "The consulate of %(name)s was neither notified nor in contact within "
                        "%(days)s days of admission (VCCR art. 36(1)(b))"
                    )
                    % {"name": _name(row), "days": notice},
                )
            )
    access = consular_access_days()
    for row in access_withheld(episodes, at):
        found.append(
            _alert(
                row,
                "A8.3",
                "no_access",
                row["asked"],
                _(
                    "A consular officer asked to visit %(name)s and has had no visit within "
                    "%(days)s days (VCCR art. 36(1)(c))"
                )
                % {"name": _name(row), "days": access},
            )
        )
    return found


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
