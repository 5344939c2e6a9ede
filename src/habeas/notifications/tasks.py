"""Background tasks (Django's tasks API, the ``django-tasks`` backport with the ORM backend
``django-tasks-db``): each loads by id and calls a service, so it is safe to run twice."""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
from collections.abc import Sequence
from typing import Any

from django_tasks import task
from django_tasks.base import Task

from habeas.core.actor import Actor


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def enqueue_many(
    fn: Task[Any, Any], arg_lists: Sequence[Sequence[Any]], *, run_after: dt.datetime | None = None
) -> int:
    """Enqueue ``fn`` once per argument list. On the database backend (``django-tasks-db``)
    the task rows are written by one ``INSERT`` in the caller's transaction, so they commit
    (or roll back) with the rows they are about; on any other backend each is enqueued when
    the transaction commits. Returns the number of tasks."""
    from django.db import transaction
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    if not arg_lists:
        return 0
    chosen = fn if run_after is None else fn.using(run_after=run_after)
    backend = chosen.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for args in arg_lists:
            transaction.on_commit(functools.partial(chosen.enqueue, *args))
        return len(arg_lists)
    backend.validate_task(chosen)
    rows: list[Any] = [
        DBTaskResult(
            id=backend._get_id(),
            args_kwargs=normalize_json({"args": list(args), "kwargs": {}}),
            priority=chosen.priority,
            task_path=chosen.module_path,
            queue_name=chosen.queue_name,
            run_after=chosen.run_after or get_date_max(),
            backend_name=backend.alias,
        )
        for args in arg_lists
    ]
    DBTaskResult.objects.bulk_create(rows, batch_size=500)
    for row in rows:
        task_enqueued.send(type(backend), task_result=row.task_result)
    return len(rows)


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
