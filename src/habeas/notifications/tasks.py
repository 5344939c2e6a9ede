"""Background tasks (Django's tasks API, the ``django-tasks`` backport with the ORM backend
``django-tasks-db``): each loads by id and calls a service, so it is safe to run twice."""

from __future__ import annotations

import os
import socket
from typing import Any

from django_tasks import task

from habeas.core.actor import Actor


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@task()
def deliver_task(delivery_id: int) -> str | None:
    """Deliver one notification (claim, send, record): tasks queued before batches."""
    from habeas.notifications.services import deliver

    return deliver(delivery_id, worker=worker_id())


@task()
def deliver_batch_task(delivery_ids: list[int]) -> dict[str, int]:
    """Deliver a batch of notifications (claimed together, sent over kept connections,
    recorded together); the number of each outcome."""
    from habeas.notifications.services import deliver_many

    counts: dict[str, int] = {}
    for status in deliver_many(delivery_ids, worker=worker_id()).values():
        counts[status] = counts.get(status, 0) + 1
    return counts


@task()
def daily_check_task() -> dict[str, Any]:
    """``check-custody``, the 14-day release notices and the other apps' daily jobs
    (:mod:`habeas.core.daily`: the retention of readings), once a day."""
    from habeas.core import daily
    from habeas.custody.check import custody_check
    from habeas.notifications.services import release_due_notices

    actor = Actor.system("worker")
    report = custody_check(actor=actor).document()
    report["release_due_notices"] = len(release_due_notices(actor=actor))
    counts = {k: v if isinstance(v, int) else len(v) for k, v in report.items()}
    counts.update(daily.run_all(actor))
    return counts
