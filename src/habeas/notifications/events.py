"""Ledger actions of notifications (Mandela Rules 68-69; VCCR art. 36), and the listeners that
queue a notice in the transaction of the event it tells of.

Personal on the ledger, as commitments under the person's key: a delivery's ``address`` (a
relative's e-mail), ``subject`` and ``body`` (they name the person), and the reason of a
family-notice objection. The event, audience, channel, key, status, attempts and times stay
in clear: oversight can prove that a family or a consulate was told, and when. A
subscription's secret never goes on the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from habeas.core.events import (
    Action,
    AppendedEvent,
    Committed,
    Payload,
    State,
    covers,
    declare,
    derived,
    instant,
    on_appended,
)

S = "notifications.WebhookSubscription"
D = "notifications.Delivery"
F = "notifications.FamilyObjection"
DELIVERY_PERSONAL = ("address", "subject", "body")
DELIVERY_TEXT = ("key", "event", "audience", "channel", "language", "status", "last_error")


def _subscription(state: State, p: dict[str, Any]) -> None:
    state.setdefault(S, {})[p["id"]] = {
        "name": p["name"],
        "audience": p["audience"],
        "country": p["country"],
        "url": p["url"],
        "active": True,
        "created_at": instant(p["created_at"]),
    }


def _objection(state: State, p: dict[str, Any]) -> None:
    state.setdefault(F, {})[p["id"]] = {
        "person_id": p["person"],
        "reason": p["reason"],
        "recorded_at": instant(p["recorded_at"]),
    }


def _queued(state: State, p: dict[str, Any]) -> None:
    d = p["delivery"]
    state.setdefault(D, {})[d["id"]] = {
        "key": d["key"],
        "event": d["event"],
        "audience": d["audience"],
        "channel": d["channel"],
        "person_id": d["person"],
        "episode_id": d["episode"],
        "subscription_id": d["subscription"],
        "address": d["address"],
        "language": d["language"],
        "subject": d["subject"],
        "body": d["body"],
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": instant(d["next_attempt_at"]),
        "last_error": "",
        "sent_at": None,
        "queued_at": instant(d["queued_at"]),
    }


def _attempted(state: State, p: dict[str, Any]) -> None:
    state.setdefault(D, {}).setdefault(p["delivery"], {}).update(
        status=p["status"],
        attempts=p["attempts"],
        sent_at=instant(p["sent_at"]),
        next_attempt_at=instant(p["next_attempt_at"]),
        last_error=p["error"],
    )


def _queued_summary(payload: dict[str, Any], show_cells: bool) -> str:
    d = payload.get("delivery") or {}
    return _("Notice queued: %(event)s to %(audience)s by %(channel)s") % {
        "event": d.get("event", ""),
        "audience": d.get("audience", ""),
        "channel": d.get("channel", ""),
    }


def _attempted_summary(payload: dict[str, Any], show_cells: bool) -> str:
    return _("Notice delivery: %(status)s after %(attempts)s attempt(s)") % {
        "status": payload.get("status", ""),
        "attempts": payload.get("attempts", 0),
    }


class SubscriptionCreatedPayload(Payload):
    id: int
    name: str
    audience: str
    country: str
    url: str
    created_at: dt.datetime


class FamilyObjectionPayload(Payload):
    id: int
    person: int
    reason: str | Committed
    recorded_at: dt.datetime


class DeliveryRow(Payload):
    id: int
    key: str
    event: str
    audience: str
    channel: str
    person: int
    episode: int
    subscription: int | None
    address: str | Committed
    language: str
    subject: str | Committed
    body: str | Committed
    queued_at: dt.datetime
    next_attempt_at: dt.datetime


class DeliveryQueuedPayload(Payload):
    delivery: DeliveryRow


class DeliveryAttemptedPayload(Payload):
    delivery: int
    person: int
    status: str
    attempts: int
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime
    error: str


declare(
    Action(
        "notifications.subscription_created",
        schema=SubscriptionCreatedPayload,
        label=pgettext_lazy("ledger action", "Webhook subscription created"),
        replay=_subscription,
        housing=None,
    ),
    Action(
        "notifications.family_objection_recorded",
        schema=FamilyObjectionPayload,
        label=pgettext_lazy("ledger action", "Objection to family notices recorded"),
        personal=("reason",),
        key=lambda subject, p: f"person:{p['person']}",
        replay=_objection,
        housing=None,
    ),
    Action(
        "notifications.delivery_queued",
        schema=DeliveryQueuedPayload,
        label=pgettext_lazy("ledger action", "Notice queued"),
        personal=tuple(f"delivery.{f}" for f in DELIVERY_PERSONAL),
        key=lambda subject, p: f"person:{p['delivery']['person']}",
        replay=_queued,
        summary=_queued_summary,
        housing=None,
    ),
    Action(
        "notifications.delivery_attempted",
        schema=DeliveryAttemptedPayload,
        label=pgettext_lazy("ledger action", "Notice delivery attempted"),
        replay=_attempted,
        summary=_attempted_summary,
        housing=None,
    ),
)

derived(
    "django_tasks_database.DBTaskResult",
    "the task queue of the background worker: operational; what a task does goes on the "
    "ledger through the services it calls",
)


@covers(S)
def _subscriptions() -> dict[Any, dict[str, Any]]:
    from habeas.notifications.models import WebhookSubscription

    return {
        s["id"]: {
            "name": s["name"],
            "audience": s["audience"],
            "country": s["country"],
            "url": s["url"],
            "active": s["active"],
            "created_at": instant(s["created_at"]),
        }
        for s in WebhookSubscription.objects.values(
            "id", "name", "audience", "country", "url", "active", "created_at"
        )
    }  # fmt: skip


@covers(F, personal=("reason",), key=lambda fid, row: f"person:{row['person_id']}")
def _objections() -> dict[Any, dict[str, Any]]:
    from habeas.notifications.models import FamilyObjection

    return {
        o["id"]: {
            "person_id": o["person_id"],
            "reason": o["reason"],
            "recorded_at": instant(o["recorded_at"]),
        }
        for o in FamilyObjection.objects.values("id", "person_id", "reason", "recorded_at")
    }


@covers(D, personal=DELIVERY_PERSONAL, key=lambda did, row: f"person:{row['person_id']}")
def _deliveries() -> dict[Any, dict[str, Any]]:
    from habeas.notifications.models import Delivery

    return {
        d["id"]: {
            **{k: d[k] for k in (*DELIVERY_TEXT, *DELIVERY_PERSONAL)},
            "person_id": d["person_id"],
            "episode_id": d["episode_id"],
            "subscription_id": d["subscription_id"],
            "attempts": d["attempts"],
            "next_attempt_at": instant(d["next_attempt_at"]),
            "sent_at": instant(d["sent_at"]),
            "queued_at": instant(d["queued_at"]),
        }
        for d in Delivery.objects.values(
            "id", "person_id", "episode_id", "subscription_id", "attempts", "next_attempt_at",
            "sent_at", "queued_at", *DELIVERY_TEXT, *DELIVERY_PERSONAL,
        ).iterator(chunk_size=5000)
    }  # fmt: skip


# --- listeners: a notice is queued in the transaction of its event ---------------------------

RELEASE_EVENTS = {"death": "death", "transferred": "transfer"}


def _queue(notices: list[Any]) -> None:
    from habeas.core.actor import Actor
    from habeas.notifications.services import notices_queue

    if notices:
        notices_queue(actor=Actor.system("notifications"), notices=notices)


@on_appended("custody.released")
def _on_release(events: Sequence[AppendedEvent]) -> None:
    from habeas.notifications.services import Notice

    _queue(
        [
            Notice(
                e.payload["episode"]["id"],
                RELEASE_EVENTS.get(e.payload["episode"]["reason"], "release"),
                {
                    "at": e.payload["episode"]["released_at"],
                    "destination": e.payload["episode"]["destination"],
                },
            )
            for e in events
        ]
    )


@on_appended("custody.transferred")
def _on_transfer(events: Sequence[AppendedEvent]) -> None:
    """Mandela Rule 68: the family (and consulate, sending state) told of a transfer."""
    from habeas.notifications.services import Notice

    _queue(
        [
            Notice(
                e.payload["episode"],
                "transfer",
                {"at": e.payload["placement"]["started_at"], "facility": e.payload["destination"]},
                occurrence=str(e.payload["placement"]["id"]),
            )
            for e in events
        ]
    )


@on_appended("transfers.notification_queued")
def _on_admission(events: Sequence[AppendedEvent]) -> None:
    from habeas.notifications.services import Notice

    episodes = sorted({e.payload["notification"]["episode"] for e in events})
    facts = {
        e.payload["notification"]["episode"]: e.payload["notification"]["payload"].get(
            "admitted_at"
        )
        for e in events
        if isinstance(e.payload["notification"].get("payload"), dict)
    }
    _queue([Notice(ep, "admission", {"at": facts.get(ep)}) for ep in episodes])


@on_appended("custody.release_calculated")
def _on_release_date(events: Sequence[AppendedEvent]) -> None:
    from habeas.notifications.services import Notice

    notices = []
    for e in events:
        c = e.payload["calculation"]
        previous = e.payload.get("previous_release_date")
        if not e.payload.get("recalculated") or str(previous) == str(c["release_date"]):
            continue
        notices.append(
            Notice(
                c["episode"],
                "release_date_changed",
                {"release_date": c["release_date"], "previous_release_date": previous},
                occurrence=str(c["id"]),
            )
        )
    _queue(notices)


@on_appended("people.erased")
def _erase_bodies(events: Sequence[AppendedEvent]) -> None:
    """A person's notices and objection lose their personal fields with the erasure."""
    from habeas.core.events import blank_values
    from habeas.notifications.models import Delivery, FamilyObjection

    for event in events:
        pid = event.payload["person"]
        Delivery.objects.filter(person_id=pid).update(**blank_values(Delivery, DELIVERY_PERSONAL))
        FamilyObjection.objects.filter(person_id=pid).update(reason="")
