"""Notifications delivered (Mandela Rules 68-69; VCCR art. 36): e-mail through Django's
backend (locmem in tests), webhooks to a real local HTTP receiver that is down and then comes
back up, signed and keyed; retries with backoff, dead after the last try; two workers never
deliver one notice twice (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail

from habeas.core.clock import now
from habeas.custody.services import custody_release
from habeas.ledger.models import LedgerEntry
from habeas.notifications.models import Delivery
from habeas.notifications.services import (
    Notice,
    deliver,
    family_objection_record,
    notices_queue,
    subscription_create,
)
from tests.conftest import admit, make_person, sentence

SECRET = "test-secret-0123456789abcdef"


class Receiver:
    """A local HTTP receiver: records each POST (its key, signature and body); answers 200,
    or 503 while ``down``. HTTP/1.0 (a connection per request) unless ``keep_alive``; with
    ``drop`` it closes each kept connection after one answer without saying so (as a server
    whose idle timeout has passed), and counts the connections it accepted."""

    def __init__(self, *, keep_alive: bool = False, drop: bool = False) -> None:
        self.received: list[dict[str, Any]] = []
        self.down = False
        self.connections = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                with outer.lock:
                    outer.connections += 1

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    if outer.down:
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    outer.received.append(
                        {
                            "key": self.headers["Idempotency-Key"],
                            "timestamp": self.headers["X-Habeas-Timestamp"],
                            "signature": self.headers["X-Habeas-Signature"],
                            "body": body,
                        }
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if drop:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def _held(actor: Any, world: dict[str, Any], email: str = "") -> Any:
    person = make_person(actor, nationality="VE")
    episode = admit(actor, person, world["tec"], world["us"], bases=[sentence("P10Y")])
    if email:
        from habeas.transfers.models import AdmissionRecord
        from tests.conftest import direct_write

        # The Rule 7(g) record as an intake completes it (the transfers app's own path is
        # exercised by its tests); here only its e-mail matters.
        direct_write(
            lambda: AdmissionRecord(
                episode=episode, contact_email=email, rights_language="es", updated_at=now()
            ).save()
        )
    return episode


@pytest.mark.django_db
def test_a_webhook_survives_the_receiver_being_down_and_is_signed_and_keyed(
    world: dict[str, Any], actor: Any, receiver: Receiver, settings: Any
) -> None:
    settings.HABEAS_NOTIFY_BACKOFF_SECONDS = 0
    subscription_create(
        actor=actor, name="DHS", audience="sending_state", country="US", url=receiver.url,
        secret=SECRET,
    )  # fmt: skip
    episode = _held(actor, world)
    custody_release(actor=actor, person=episode.person, reason="repatriated", at=now())
    (d,) = Delivery.objects.filter(event="release")
    assert d.status == "queued"
    assert d.channel == "webhook"
    receiver.down = True
    assert deliver(d.pk, worker="w1") == "failed"
    d.refresh_from_db()
    assert d.attempts == 1
    assert d.last_error == "HTTP 503"
    receiver.down = False
    assert deliver(d.pk, worker="w1") == "sent"
    assert deliver(d.pk, worker="w1") is None  # delivered: nothing more to do
    (got,) = receiver.received
    assert got["key"] == d.key  # a repeat would carry the same key
    expected = hmac.new(
        SECRET.encode(), got["timestamp"].encode() + b"." + got["body"], hashlib.sha256
    ).hexdigest()
    assert got["signature"] == f"sha256={expected}"
    statuses = [
        e.payload["status"]
        for e in LedgerEntry.objects.filter(action="notifications.delivery_attempted")
    ]
    assert statuses == ["failed", "sent"]


@pytest.mark.django_db
def test_a_notice_dies_after_the_last_try_with_exponential_backoff(
    world: dict[str, Any], actor: Any, settings: Any
) -> None:
    settings.HABEAS_NOTIFY_MAX_ATTEMPTS = 3
    settings.HABEAS_NOTIFY_BACKOFF_SECONDS = 10
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subscription_create(
        actor=actor, name="VE", audience="consular", country="VE",
        url=f"http://127.0.0.1:{port}/", secret=SECRET,
    )  # fmt: skip
    episode = _held(actor, world)
    custody_release(actor=actor, person=episode.person, reason="death", at=now())
    (d,) = Delivery.objects.filter(event="death")
    waits = []
    for _ in range(3):
        before = now()
        status = deliver(d.pk, worker="w")
        d.refresh_from_db()
        waits.append((d.next_attempt_at - before).total_seconds())
        if status == "failed":
            assert deliver(d.pk, worker="w") is None  # not due yet: backoff
            from tests.conftest import direct_write

            direct_write(lambda: Delivery.objects.filter(pk=d.pk).update(next_attempt_at=now()))
    assert d.status == "dead"
    assert d.attempts == 3
    assert 9 <= waits[0] <= 11
    assert 19 <= waits[1] <= 21


@pytest.mark.django_db
def test_family_email_in_their_language_unless_the_person_objected(
    world: dict[str, Any], actor: Any
) -> None:
    told = _held(actor, world, email="madre@example.org")
    told.person.language = "es"
    objected = _held(actor, world, email="hermana@example.org")
    family_objection_record(actor=actor, person=objected.person, reason="")
    from tests.conftest import direct_write

    direct_write(lambda: told.person.save(update_fields=["language"]))
    notices_queue(
        actor=actor,
        notices=[Notice(told.pk, "transfer", {}), Notice(objected.pk, "transfer", {})],
    )
    again = notices_queue(actor=actor, notices=[Notice(told.pk, "transfer", {})])
    assert again == []  # idempotent: the same notice is queued once
    (d,) = Delivery.objects.filter(audience="family")
    assert d.person_id == told.person_id
    assert deliver(d.pk, worker="w") == "sent"
    (message,) = mail.outbox
    assert message.to == ["madre@example.org"]
    assert "trasladad" in message.subject  # Spanish template
    assert message.extra_headers["Idempotency-Key"] == d.key


@pytest.mark.django_db
def test_a_changed_release_date_is_notified(
    world: dict[str, Any], actor: Any, receiver: Receiver
) -> None:
    from habeas.custody.amendments import NewSentence, sentence_change

    subscription_create(
        actor=actor, name="DHS", audience="sending_state", country="US", url=receiver.url,
        secret=SECRET,
    )  # fmt: skip
    episode = _held(actor, world)
    sentence_change(
        actor=actor,
        basis=episode.legal_bases.get(),
        new=NewSentence("P8Y", dt.date(2024, 1, 1)),
        on=now().date(),
    )
    (d,) = Delivery.objects.filter(event="release_date_changed")
    assert "2032-01-01" in d.body
    assert "2034-01-01" in d.body


@pytest.mark.django_db
def test_release_due_in_14_days_is_notified_once(
    world: dict[str, Any], actor: Any, receiver: Receiver
) -> None:
    from habeas.notifications.services import release_due_notices

    subscription_create(
        actor=actor, name="DHS", audience="sending_state", country="US", url=receiver.url,
        secret=SECRET,
    )  # fmt: skip
    today = now().date()
    soon = make_person(actor)
    later = make_person(actor)
    for person, days in ((soon, 14), (later, 15)):
        end = today + dt.timedelta(days=days)
        admit(actor, person, world["tec"], world["us"],
              bases=[sentence("P2Y", end.replace(year=end.year - 2))])  # fmt: skip
    made = release_due_notices(actor=actor)
    assert [d.person_id for d in made] == [soon.pk]
    assert release_due_notices(actor=actor) == []  # once per release date


@pytest.mark.django_db
def test_a_death_is_told_to_the_next_of_kin_even_after_an_objection(
    world: dict[str, Any], actor: Any, receiver: Receiver
) -> None:
    """Mandela Rule 69: the next of kin is told of a death at once; the Rule 68 objection (the
    person's own choice about imprisonment and transfers) does not reach it. The consulate is
    told too (VCCR art. 37(a)); the relative in the person's language."""
    from tests.conftest import direct_write

    subscription_create(
        actor=actor, name="VE", audience="consular", country="VE", url=receiver.url,
        secret=SECRET,
    )  # fmt: skip
    died = _held(actor, world, email="madre@example.org")
    released = _held(actor, world, email="hermano@example.org")
    for episode in (died, released):
        episode.person.language = "es"
        direct_write(lambda p=episode.person: p.save(update_fields=["language"]))
        family_objection_record(actor=actor, person=episode.person, reason="")
    custody_release(actor=actor, person=died.person, reason="death", at=now())
    custody_release(actor=actor, person=released.person, reason="repatriated", at=now())
    deaths = {d.audience: d for d in Delivery.objects.filter(episode=died)}
    assert set(deaths) == {"family", "consular"}
    assert {d.event for d in deaths.values()} == {"death"}
    assert deaths["family"].address == "madre@example.org"
    assert deaths["family"].subject.startswith("Muerte bajo custodia")
    assert "Reglas Mandela 69 y 71" in deaths["family"].body
    assert deaths["consular"].subject.startswith("Death in custody")
    # a release of a person who objected: the consulate only
    others = Delivery.objects.filter(episode=released)
    assert [(d.event, d.audience) for d in others] == [("release", "consular")]
    assert deliver(deaths["family"].pk, worker="w") == "sent"
    (message,) = mail.outbox
    assert message.to == ["madre@example.org"]


@pytest.mark.django_db
@pytest.mark.parametrize("drop", [False, True])
def test_a_batch_is_claimed_sent_over_one_kept_connection_and_recorded(
    world: dict[str, Any], actor: Any, drop: bool
) -> None:
    """A batch of deliveries: one claim, the posts over one kept HTTP/1.1 connection (or, when
    the receiver closes it after each answer, a new one each time, nothing lost), one
    ``delivery_attempted`` entry per delivery; run again, nothing is sent twice."""
    from habeas.notifications.channels import close_connections
    from habeas.notifications.services import deliver_many

    receiver = Receiver(keep_alive=True, drop=drop)
    try:
        subscription_create(
            actor=actor, name="DHS", audience="sending_state", country="US",
            url=receiver.url, secret=SECRET,
        )  # fmt: skip
        episode = _held(actor, world)
        made = notices_queue(
            actor=actor,
            notices=[Notice(episode.pk, "transfer", {}, occurrence=str(k)) for k in range(6)],
        )
        ids = [d.pk for d in made]
        before = LedgerEntry.objects.filter(action="notifications.delivery_attempted").count()
        assert deliver_many(ids, worker="w") == dict.fromkeys(ids, "sent")
        assert deliver_many(ids, worker="w") == {}  # delivered: nothing more to do
        close_connections()
        assert sorted(r["key"] for r in receiver.received) == sorted(d.key for d in made)
        assert receiver.connections == (6 if drop else 1)
        after = LedgerEntry.objects.filter(action="notifications.delivery_attempted").count()
        assert after - before == 6
        assert set(Delivery.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"sent"}
    finally:
        close_connections()
        receiver.close()


@pytest.mark.django_db
def test_the_sweep_requeues_deliveries_whose_batch_task_was_lost(
    world: dict[str, Any], actor: Any, receiver: Receiver, settings: Any
) -> None:
    """Deliveries due for a minute or more with no ready task (a batch task lost with a crash
    or a pruned queue) are found by the worker's sweep; once a batch task holds them, not."""
    from django_tasks_db.models import DBTaskResult

    from habeas.notifications.scheduler import due_deliveries_unqueued
    from habeas.notifications.services import enqueue_deliveries
    from tests.conftest import direct_write

    settings.HABEAS_NOTIFY_BATCH = 2
    subscription_create(
        actor=actor, name="DHS", audience="sending_state", country="US", url=receiver.url,
        secret=SECRET,
    )  # fmt: skip
    episode = _held(actor, world)
    made = notices_queue(
        actor=actor,
        notices=[Notice(episode.pk, "transfer", {}, occurrence=str(k)) for k in range(3)],
    )
    ids = sorted(d.pk for d in made)
    assert due_deliveries_unqueued() == []  # just queued: their own task is on its way
    # the batch tasks were written with the deliveries, in their transaction: [a, b] and [c]
    tasks = DBTaskResult.objects.filter(task_path__endswith=".deliver_batch_task")
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == [ids[:2], ids[2:]]
    tasks.delete()  # lost with a crash or a pruned queue
    direct_write(
        lambda: Delivery.objects.filter(pk__in=ids).update(
            next_attempt_at=now() - dt.timedelta(minutes=2)
        )
    )
    assert sorted(due_deliveries_unqueued()) == ids
    enqueue_deliveries(ids)  # two batch tasks: [a, b] and [c]
    assert due_deliveries_unqueued() == []


@pytest.mark.django_db
def test_deliveries_and_their_tasks_are_written_in_one_transaction(
    world: dict[str, Any], actor: Any, settings: Any
) -> None:
    """The batch tasks are written by one INSERT in the queueing transaction: committed with
    their deliveries (none waits for a sweep), rolled back with them (no task for nothing)."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    settings.HABEAS_NOTIFY_BATCH = 4
    subscription_create(
        actor=actor, name="DHS", audience="sending_state", country="US",
        url="http://127.0.0.1:9/hook", secret=SECRET,
    )  # fmt: skip
    episode = _held(actor, world)
    notices = [Notice(episode.pk, "transfer", {}, occurrence=str(k)) for k in range(10)]
    tasks = DBTaskResult.objects.filter(task_path__endswith=".deliver_batch_task")

    class Undone(Exception):
        pass

    def queue_then_fail() -> None:
        with transaction.atomic():
            notices_queue(actor=actor, notices=notices)
            assert tasks.count() == 3  # 4 + 4 + 2
            raise Undone

    with pytest.raises(Undone):
        queue_then_fail()
    assert not Delivery.objects.exists()
    assert not tasks.exists()
    made = notices_queue(actor=actor, notices=notices)
    batches = sorted(t.args_kwargs["args"][0] for t in tasks)
    assert sorted(pk for batch in batches for pk in batch) == sorted(d.pk for d in made)
    assert [len(b) for b in batches] == [4, 4, 2]
