"""Notification writes: queueing notices, claiming and recording each delivery attempt
(Mandela Rules 68-69: family informed of imprisonment, transfer, release, death; VCCR art. 36:
the consulate; the sending state of a transferee).

Queueing runs in the transaction of the event it tells of (a listener on the ledger action),
so a notice exists exactly when its event does; so do its delivery tasks, a task per batch
(``HABEAS_NOTIFY_BATCH``), written together in the same transaction. Delivering a batch is three
steps: a short transaction *claims* its rows (a locked read: no two workers send one notice),
the messages go out with no transaction open (webhooks over kept connections), and another
short transaction records each attempt on the ledger: sent, failed (retried with exponential
backoff) or dead after the last try.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q

from habeas.core.actor import Actor
from habeas.core.clock import now
from habeas.core.errors import ValidationFailed
from habeas.core.services import service
from habeas.custody.models import CustodyEpisode
from habeas.ledger.services import Event, ledger_append_many
from habeas.notifications.choices import Audience, Channel, DeliveryStatus, NoticeEvent
from habeas.notifications.messages import Renderer
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


@dataclass(frozen=True)
class _Told:
    """What queueing reads of an episode: who, in which language, held where and for whom."""

    pk: int
    person_id: int
    name: str
    language: str
    nationalities: tuple[str, ...]
    facility: str
    receiving: str
    sending: str | None


def _episodes(pks: Iterable[int]) -> dict[int, _Told]:
    """The episodes told about, read as values (one query; no model instances)."""
    rows = CustodyEpisode.objects.filter(pk__in=sorted(set(pks))).values_list(
        "pk", "person_id", "person__given_names", "person__first_surname",
        "person__second_surname", "person__language", "person__nationalities",
        "facility__name", "facility__jurisdiction__code", "agreement__sending__code",
    )  # fmt: skip
    return {
        pk: _Told(
            pk=pk,
            person_id=person,
            name=" ".join(p for p in (given, first, second) if p),
            language=language or "",
            nationalities=tuple(nationalities or ()),
            facility=facility,
            receiving=receiving,
            sending=sending,
        )
        for pk, person, given, first, second, language, nationalities, facility, receiving,
        sending in rows
    }  # fmt: skip


def _recipients(
    episodes: dict[int, _Told],
) -> tuple[dict[int, list[tuple[str, str, Any, str]]], set[int]]:
    """Episode → [(audience, channel, subscription, address)], and the people who objected to
    family notices (their relative is listed all the same: a death is told regardless)."""
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
        if email:
            found.append((Audience.FAMILY, Channel.EMAIL, None, email))
        foreign = {c for c in ep.nationalities if c != ep.receiving}
        for sub in subs:
            if (sub.audience == Audience.CONSULAR and sub.country in foreign) or (
                sub.audience == Audience.SENDING_STATE and sub.country == ep.sending
            ):
                found.append((sub.audience, Channel.WEBHOOK, sub, sub.url))
        out[pk] = found
    return out, objected


@service
def notices_queue(*, actor: Actor, notices: Sequence[Notice]) -> list[Delivery]:
    """Queue each notice for each of its recipients, in the person's language where a template
    exists (English, Spanish), once: a notice already queued (same idempotency key) is not
    queued again. The family is not told when the person objected (Mandela Rule 68), except
    of a death (Rule 69: the next of kin informed at once). One
    ``notifications.delivery_queued`` entry per delivery; the deliveries' tasks are written
    in the same transaction, one per batch (:func:`enqueue_deliveries`)."""
    if not notices:
        return []
    episodes = _episodes(n.episode for n in notices)
    recipients, objected = _recipients(episodes)
    at = now()
    render = Renderer()
    wanted: list[Delivery] = []
    for notice in notices:
        ep = episodes[notice.episode]
        for audience, channel, sub, address in recipients.get(ep.pk, []):
            if (
                audience == Audience.FAMILY
                and ep.person_id in objected
                and notice.event != NoticeEvent.DEATH
            ):
                continue  # Rule 68 is the person's right; Rule 69 (a death) is not theirs to waive
            target = f"sub{sub.pk}" if sub is not None else "email"
            key = f"{notice.event}:{ep.pk}:{notice.occurrence}:{audience}:{target}"
            language = ep.language if audience == Audience.FAMILY else "en"
            subject, body = render(
                notice.event,
                name=ep.name,
                facility=ep.facility,
                facts=notice.facts,
                language=language,
                key=key,
            )
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
    made = Delivery.objects.bulk_create(fresh, batch_size=1000)
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
    enqueue_deliveries([d.pk for d in made])
    return made


def batch_size() -> int:
    """Deliveries per task: claimed together, sent over kept connections, recorded together."""
    return max(int(getattr(settings, "HABEAS_NOTIFY_BATCH", 50)), 1)


def enqueue_deliveries(ids: Iterable[int], *, run_after: dt.datetime | None = None) -> int:
    """Hand the deliveries to the task queue (``habeas worker`` runs them), a task per batch
    of :func:`batch_size`, the task rows written together in the caller's transaction
    (:func:`habeas.notifications.tasks.enqueue_many`): a delivery committed always has its
    task, and a rolled-back one leaves none. Returns the number of tasks."""
    from habeas.notifications.tasks import deliver_batch_task, enqueue_many

    pks = sorted(set(ids))
    step = batch_size()
    return enqueue_many(
        deliver_batch_task,
        [[pks[i : i + step]] for i in range(0, len(pks), step)],
        run_after=run_after,
    )


@service
def deliveries_claim(*, delivery_ids: Sequence[int], worker: str) -> list[Delivery]:
    """Claim the due deliveries among ``delivery_ids`` for ``worker``, in one transaction: a
    locked read (``SKIP LOCKED`` on PostgreSQL, so workers pass each other by), then one
    update writing the claims. Left out: a delivery not due, already delivered or dead, or
    claimed by a live worker. The claim is an operational lock, not a domain event: each
    attempt's outcome goes on the ledger."""
    if not delivery_ids:
        return []
    at = now()
    qs = (
        Delivery.objects.filter(
            pk__in=sorted(set(delivery_ids)),
            status__in=(DeliveryStatus.QUEUED, DeliveryStatus.FAILED),
            next_attempt_at__lte=at,
        )
        .filter(
            Q(claimed_by="") | Q(claimed_at__isnull=True) | Q(claimed_at__lte=at - CLAIM_TIMEOUT)
        )
        .order_by("pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    else:
        qs = qs.select_for_update()
    claimed = list(qs)
    if not claimed:
        return []
    Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(claimed_by=worker, claimed_at=at)
    subs = WebhookSubscription.objects.in_bulk(
        {d.subscription_id for d in claimed if d.subscription_id is not None}
    )
    for d in claimed:
        d.claimed_by, d.claimed_at = worker, at
        if d.subscription_id is not None:
            d.subscription = subs[d.subscription_id]
    return claimed


@service
def delivery_claim(*, delivery_id: int, worker: str) -> Delivery | None:
    """Claim one due delivery (:func:`deliveries_claim`); ``None`` when it is not due, already
    delivered, or claimed by a live worker."""
    found = deliveries_claim(delivery_ids=[delivery_id], worker=worker)
    return found[0] if found else None


#: One attempt: the delivery as claimed, whether it was delivered, the error if not.
Outcome = tuple[Delivery, bool, str]


@service
def deliveries_record(
    *, actor: Actor, outcomes: Sequence[Outcome], worker: str = ""
) -> list[Delivery]:
    """Record attempts, in one transaction: each sent; or failed, retried after an exponential
    backoff; or dead after the last try (``HABEAS_NOTIFY_MAX_ATTEMPTS``). One
    ``notifications.delivery_attempted`` entry per attempt recorded. An attempt whose claim
    another worker took over (or already sent) is not recorded: that outcome stands."""
    if not outcomes:
        return []
    current = {
        d.pk: d
        for d in Delivery.objects.select_for_update()
        .filter(pk__in=sorted({o[0].pk for o in outcomes}))
        .order_by("pk")
    }
    at = now()
    last = max_attempts()
    changed: list[Delivery] = []
    for delivery, ok, error in outcomes:
        d = current[delivery.pk]
        if d.status == DeliveryStatus.SENT or (worker and d.claimed_by != worker):
            continue  # another worker's claim took over: its outcome stands
        d.attempts += 1
        d.claimed_by = ""
        d.claimed_at = None
        if ok:
            d.status = DeliveryStatus.SENT
            d.sent_at = at
            d.last_error = ""
        elif d.attempts >= last:
            d.status = DeliveryStatus.DEAD
            d.last_error = error[:500]
        else:
            d.status = DeliveryStatus.FAILED
            d.last_error = error[:500]
            d.next_attempt_at = at + backoff(d.attempts)
        changed.append(d)
    if not changed:
        return [current[o[0].pk] for o in outcomes]
    # One UPDATE per distinct outcome (usually one: all sent), not a CASE per row and field.
    groups: dict[tuple[Any, ...], list[int]] = {}
    for d in changed:
        retry = d.next_attempt_at if d.status == DeliveryStatus.FAILED else None
        groups.setdefault((d.status, d.attempts, d.sent_at, d.last_error, retry), []).append(d.pk)
    for (status, attempts, sent_at, error, retry), pks in groups.items():
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "sent_at": sent_at,
            "last_error": error,
            "claimed_by": "",
            "claimed_at": None,
        }
        if retry is not None:
            values["next_attempt_at"] = retry
        Delivery.objects.filter(pk__in=pks).update(**values)
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
            for d in changed
        ],
    )
    retries: dict[dt.datetime, list[int]] = {}
    for d in changed:
        if d.status == DeliveryStatus.FAILED:
            retries.setdefault(d.next_attempt_at, []).append(d.pk)
    for when, pks in sorted(retries.items()):
        enqueue_deliveries(pks, run_after=when)
    return [current[o[0].pk] for o in outcomes]


@service
def delivery_record(
    *, actor: Actor, delivery: Delivery, ok: bool, error: str = "", worker: str = ""
) -> Delivery:
    """Record one attempt (:func:`deliveries_record`)."""
    return deliveries_record(actor=actor, outcomes=[(delivery, ok, error)], worker=worker)[0]


def deliver_many(delivery_ids: Sequence[int], *, worker: str) -> dict[int, str]:
    """Claim, send, record a batch: the body of the delivery task. Safe to run twice or from
    two workers at once: only the claimant sends. Webhooks to one receiver share a kept
    connection. Sending stops when half the claim's lifetime is spent (a slow receiver), and
    the claims of what was not sent are released, so no claim expires while its notice is
    being sent. Returns delivery id → new status for each attempt recorded."""
    from habeas.notifications.channels import send

    claimed = deliveries_claim(delivery_ids=delivery_ids, worker=worker)
    if not claimed:
        return {}
    budget = CLAIM_TIMEOUT.total_seconds() / 2
    started = time.monotonic()
    outcomes: list[Outcome] = []
    for d in claimed:
        if time.monotonic() - started > budget:
            break
        ok, error = send(d)
        outcomes.append((d, ok, error))
    deliveries_unclaim(delivery_ids=[d.pk for d in claimed[len(outcomes) :]], worker=worker)
    done = deliveries_record(actor=Actor.system("worker"), outcomes=outcomes, worker=worker)
    return {d.pk: str(d.status) for d in done}


@service
def deliveries_unclaim(*, delivery_ids: Sequence[int], worker: str) -> None:
    """Release ``worker``'s claims on deliveries it did not send, and queue them again."""
    if not delivery_ids:
        return
    Delivery.objects.filter(pk__in=list(delivery_ids), claimed_by=worker).update(
        claimed_by="", claimed_at=None
    )
    enqueue_deliveries(delivery_ids)


def deliver(delivery_id: int, *, worker: str) -> str | None:
    """Claim, send, record one delivery (:func:`deliver_many`). Returns the new status, or
    None when there was nothing to do."""
    return deliver_many([delivery_id], worker=worker).get(delivery_id)


def due_deliveries(limit: int = 1000, *, due_before: dt.datetime | None = None) -> list[int]:
    """Deliveries due (by ``due_before``, default now) that no live worker holds (a sweep:
    for tasks lost with a crashed worker, and for the retries of a database whose task rows
    were pruned)."""
    at = now()
    return list(
        Delivery.objects.filter(
            status__in=(DeliveryStatus.QUEUED, DeliveryStatus.FAILED),
            next_attempt_at__lte=due_before or at,
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
