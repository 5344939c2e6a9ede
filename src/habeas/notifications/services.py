"""Notification writes: queueing notices, claiming and recording each delivery attempt
(Mandela Rules 68-69: family informed of imprisonment, transfer, release, death; VCCR art. 36:
the consulate; the sending state of a transferee).

Queueing runs in the transaction of the event it tells of (a listener on the ledger action),
so a notice exists exactly when its event does; its delivery task is enqueued when that
transaction commits. Delivering is three steps: a short transaction *claims* the row (a
locked read: no two workers send one notice), the message goes out with no transaction open,
and another short transaction records the attempt on the ledger: sent, failed (retried with
exponential backoff) or dead after the last try.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.ledger.services import Event, ledger_append_many
from habeas.notifications.choices import Audience, Channel, DeliveryStatus, NoticeEvent
from habeas.notifications.messages import render
from habeas.notifications.models import Delivery, FamilyObjection, WebhookSubscription
from habeas.people.models import Person

MSG_AUDIENCE = "a webhook subscription is for a consulate or a sending state, not {audience!r}"
MSG_URL = "{url!r} is not an http(s) URL"
MSG_SECRET = "a webhook secret needs at least 16 characters"  # noqa: S105 (a message)

#: A claim older than this is a worker that died mid-delivery: the notice may be claimed again.
CLAIM_TIMEOUT = dt.timedelta(minutes=5)


def max_attempts() -> int:
    return int(getattr(settings, "HABEAS_NOTIFY_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> dt.timedelta:
    """Exponential backoff after the ``attempts``-th failure: base × 2^(attempts-1), capped."""
    base = float(getattr(settings, "HABEAS_NOTIFY_BACKOFF_SECONDS", 30))
    cap = float(getattr(settings, "HABEAS_NOTIFY_BACKOFF_MAX_SECONDS", 6 * 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


@service
def subscription_create(
    *, actor: Actor, name: str, audience: str, country: str, url: str, secret: str
) -> WebhookSubscription:
    """A consulate's or a sending state's webhook (VCCR art. 36(1)(b))."""
    if audience not in (Audience.CONSULAR, Audience.SENDING_STATE):
        raise ValidationFailed(MSG_AUDIENCE.format(audience=audience))
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed(MSG_URL.format(url=url))
    if len(secret) < 16:
        raise ValidationFailed(MSG_SECRET)
    sub = WebhookSubscription(
        name=name,
        audience=audience,
        country=country.upper(),
        url=url,
        secret=secret,
        created_at=now(),
    )
    sub.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="notifications.subscription_created",
                subject=f"subscription:{sub.pk}",
                payload={
                    "id": sub.pk,
                    "name": name,
                    "audience": audience,
                    "country": sub.country,
                    "url": url,
                    "created_at": sub.created_at,
                },
            )
        ],
    )
    return sub


@service
def family_objection_record(*, actor: Actor, person: Person, reason: str = "") -> FamilyObjection:
    """Mandela Rule 68 is the prisoner's right: a person who objects is not reported to their
    family (their consulate and the sending state still are, VCCR art. 36)."""
    objection = FamilyObjection(person=person, reason=reason, recorded_at=now())
    objection.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="notifications.family_objection_recorded",
                subject=f"person:{person.pk}",
                payload={
                    "id": objection.pk,
                    "person": person.pk,
                    "reason": reason,
                    "recorded_at": objection.recorded_at,
                },
            )
        ],
    )
    return objection


def delivery_snapshot(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "key": d.key,
        "event": d.event,
        "audience": d.audience,
        "channel": d.channel,
        "person": d.person_id,
        "episode": d.episode_id,
        "subscription": d.subscription_id,
        "address": d.address,
        "language": d.language,
        "subject": d.subject,
        "body": d.body,
        "queued_at": d.queued_at,
        "next_attempt_at": d.next_attempt_at,
    }


@dataclass(frozen=True)
class Notice:
    """One event to tell about one episode."""

    episode: int
    event: str
    facts: dict[str, Any]
    #: Distinguishes two notices of the same event and episode (a release date changed twice).
    occurrence: str = ""


def _recipients(episodes: dict[int, CustodyEpisode]) -> dict[int, list[tuple[str, str, Any, str]]]:
    """Episode → [(audience, channel, subscription, address)]."""
    from habeas.transfers.models import AdmissionRecord

    emails = dict(
        AdmissionRecord.objects.filter(episode_id__in=list(episodes)).values_list(
            "episode_id", "contact_email"
        )
    )
    objected = set(
        FamilyObjection.objects.filter(
            person_id__in=[e.person_id for e in episodes.values()]
        ).values_list("person_id", flat=True)
    )
    subs = list(WebhookSubscription.objects.filter(active=True))
    out: dict[int, list[tuple[str, str, Any, str]]] = {}
    for pk, ep in episodes.items():
        found: list[tuple[str, str, Any, str]] = []
        email = (emails.get(pk) or "").strip()
        if email and ep.person_id not in objected:
            found.append((Audience.FAMILY, Channel.EMAIL, None, email))
        receiving = ep.facility.jurisdiction.code
        foreign = {c for c in ep.person.nationalities if c != receiving}
        sending = ep.agreement.sending.code if ep.agreement else None
        for sub in subs:
            if (sub.audience == Audience.CONSULAR and sub.country in foreign) or (
                sub.audience == Audience.SENDING_STATE and sub.country == sending
            ):
                found.append((sub.audience, Channel.WEBHOOK, sub, sub.url))
        out[pk] = found
    return out


@service
def notices_queue(*, actor: Actor, notices: Sequence[Notice]) -> list[Delivery]:
    """Queue each notice for each of its recipients, in the person's language where a template
    exists (English, Spanish), once: a notice already queued (same idempotency key) is not
    queued again. One ``notifications.delivery_queued`` entry per delivery."""
    if not notices:
        return []
    episodes = {
        e.pk: e
        for e in CustodyEpisode.objects.filter(pk__in={n.episode for n in notices}).select_related(
            "person", "facility__jurisdiction", "agreement__sending"
        )
    }
    recipients = _recipients(episodes)
    at = now()
    wanted: list[Delivery] = []
    for notice in notices:
        ep = episodes[notice.episode]
        for audience, channel, sub, address in recipients.get(ep.pk, []):
            target = f"sub{sub.pk}" if sub is not None else "email"
            key = f"{notice.event}:{ep.pk}:{notice.occurrence}:{audience}:{target}"
            language = ep.person.language if audience == Audience.FAMILY else "en"
            subject, body = render(notice.event, ep, notice.facts, language, key=key)
            wanted.append(
                Delivery(
                    key=key,
                    event=notice.event,
                    audience=audience,
                    channel=channel,
                    person_id=ep.person_id,
                    episode_id=ep.pk,
                    subscription=sub,
                    address=address,
                    language=language if language in ("en", "es") else "en",
                    subject=subject,
                    body=body,
                    queued_at=at,
                    next_attempt_at=at,
                )
            )
    existing = set(
        Delivery.objects.filter(key__in=[d.key for d in wanted]).values_list("key", flat=True)
    )
    seen: set[str] = set()
    fresh = []
    for d in wanted:
        if d.key in existing or d.key in seen:
            continue
        seen.add(d.key)
        fresh.append(d)
    if not fresh:
        return []
    made = Delivery.objects.bulk_create(fresh, batch_size=500)
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="notifications.delivery_queued",
                subject=f"person:{d.person_id}",
                occurred_at=at,
                payload={"delivery": delivery_snapshot(d)},
            )
            for d in made
        ],
    )
    ids = [d.pk for d in made]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return made


def enqueue_deliveries(ids: Iterable[int]) -> None:
    """Hand each delivery to the task queue (``habeas worker`` runs them)."""
    from habeas.notifications.tasks import deliver_task

    for pk in ids:
        deliver_task.enqueue(pk)


@service
def delivery_claim(*, delivery_id: int, worker: str) -> Delivery | None:
    """Claim a due delivery for ``worker``: a locked read (``SKIP LOCKED`` on PostgreSQL, so
    workers pass each other by), then the claim written; ``None`` when it is not due, already
    delivered, or claimed by a live worker. The claim is an operational lock, not a domain
    event: the attempt's outcome goes on the ledger."""
    qs = Delivery.objects.filter(pk=delivery_id)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    else:
        qs = qs.select_for_update()
    d = qs.first()
    at = now()
    if d is None or d.status not in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED):
        return None
    if d.next_attempt_at > at:
        return None
    if d.claimed_by and d.claimed_at is not None and at - d.claimed_at < CLAIM_TIMEOUT:
        return None
    d.claimed_by = worker
    d.claimed_at = at
    d.save(update_fields=["claimed_by", "claimed_at"])
    return d


@service
def delivery_record(
    *, actor: Actor, delivery: Delivery, ok: bool, error: str = "", worker: str = ""
) -> Delivery:
    """Record one attempt: sent; or failed, retried after an exponential backoff; or dead after
    the last try (``HABEAS_NOTIFY_MAX_ATTEMPTS``). One ``notifications.delivery_attempted``
    entry."""
    d = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if d.status == DeliveryStatus.SENT or (worker and d.claimed_by != worker):
        return d  # another worker's claim took over: its outcome stands
    at = now()
    d.attempts += 1
    d.claimed_by = ""
    d.claimed_at = None
    if ok:
        d.status = DeliveryStatus.SENT
        d.sent_at = at
        d.last_error = ""
    elif d.attempts >= max_attempts():
        d.status = DeliveryStatus.DEAD
        d.last_error = error[:500]
    else:
        d.status = DeliveryStatus.FAILED
        d.last_error = error[:500]
        d.next_attempt_at = at + backoff(d.attempts)
    d.save()
    ledger_append_many(
        actor=actor,
        events=[
            Event(
                action="notifications.delivery_attempted",
                subject=f"person:{d.person_id}",
                occurred_at=at,
                payload={
                    "delivery": d.pk,
                    "person": d.person_id,
                    "status": d.status,
                    "attempts": d.attempts,
                    "sent_at": d.sent_at,
                    "next_attempt_at": d.next_attempt_at,
                    "error": d.last_error,
                },
            )
        ],
    )
    if d.status == DeliveryStatus.FAILED:
        retry_at = d.next_attempt_at
        pk = d.pk
        transaction.on_commit(lambda: _enqueue_retry(pk, retry_at))
    return d


def _enqueue_retry(pk: int, at: dt.datetime) -> None:
    from habeas.notifications.tasks import deliver_task

    deliver_task.using(run_after=at).enqueue(pk)


def deliver(delivery_id: int, *, worker: str) -> str | None:
    """Claim, send, record: the body of the delivery task. Safe to run twice or from two
    workers at once: only the claimant sends. Returns the new status, or None when there was
    nothing to do."""
    from habeas.notifications.channels import send

    d = delivery_claim(delivery_id=delivery_id, worker=worker)
    if d is None:
        return None
    ok, error = send(d)
    done = delivery_record(
        actor=Actor.system("worker"), delivery=d, ok=ok, error=error, worker=worker
    )
    return str(done.status)


def due_deliveries(limit: int = 1000) -> list[int]:
    """Deliveries due now that no live worker holds (a sweep: for tasks lost with a crashed
    worker, and for the retries of a database whose task rows were pruned)."""
    at = now()
    return list(
        Delivery.objects.filter(
            status__in=(DeliveryStatus.QUEUED, DeliveryStatus.FAILED), next_attempt_at__lte=at
        )
        .exclude(claimed_at__gt=at - CLAIM_TIMEOUT)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def release_due_notices(*, actor: Actor, today: dt.date | None = None) -> list[Delivery]:
    """VINE's advance notice of release: for every open episode whose projected release date
    is 14 days away (or less, if the notice was not yet sent), one ``release_due`` notice."""
    from habeas.custody.models import ReleaseCalculation

    day = today or now().date()
    horizon = day + dt.timedelta(days=14)
    latest: dict[int, dt.date | None] = {}
    for ep, release in (
        ReleaseCalculation.objects.filter(episode__released_at__isnull=True)
        .order_by("episode_id", "-pk")
        .values_list("episode_id", "release_date")
    ):
        latest.setdefault(ep, release)
    notices = [
        Notice(ep, NoticeEvent.RELEASE_DUE, {"release_date": r}, occurrence=r.isoformat())
        for ep, r in latest.items()
        if r is not None and day <= r <= horizon
    ]
    return notices_queue(actor=actor, notices=notices)
