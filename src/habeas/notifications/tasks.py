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
    """Deliver one notification (claim, send, record)."""
    from habeas.notifications.services import deliver

    return deliver(delivery_id, worker=worker_id())


@task()
def daily_check_task() -> dict[str, Any]:
    """``check-custody`` and the 14-day release notices, once a day."""
    from habeas.custody.check import custody_check
    from habeas.notifications.services import release_due_notices

    actor = Actor.system("worker")
    report = custody_check(actor=actor).document()
    report["release_due_notices"] = len(release_due_notices(actor=actor))
    return {k: v if isinstance(v, int) else len(v) for k, v in report.items()}
