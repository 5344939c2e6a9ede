"""What runs on a schedule: the daily custody check (INTERFACES.md: "the worker also runs it
daily") and a sweep of deliveries whose task was lost. Every worker calls
:func:`schedule_due` between batches; enqueuing is idempotent per day (a marker in the cache,
shared by workers on one database), and check-custody is idempotent itself, so two workers
that both enqueue it do no harm."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.utils import timezone

from habeas.notifications.services import due_deliveries, enqueue_deliveries


def _check_time(text: str) -> dt.time:
    hours, _, minutes = text.partition(":")
    return dt.time(int(hours), int(minutes or 0))


def schedule_due(*, at: dt.datetime, check_at: str = "02:00") -> bool:
    """Enqueue today's custody check once it is due; sweep lost deliveries. Returns whether
    the check was enqueued now."""
    from habeas.notifications.tasks import daily_check_task

    enqueue_deliveries(due_deliveries_unqueued(at))
    local = at.astimezone()
    if local.time() < _check_time(check_at):
        return False
    marker = f"habeas:daily-check:{local.date().isoformat()}"
    if not cache.add(marker, "1", timeout=2 * 24 * 3600):
        return False
    daily_check_task.enqueue()
    return True


#: A delivery due for less than this is left to the task that was queued with it: the sweep
#: is for tasks lost, not for tasks another worker is about to run.
SWEEP_GRACE = dt.timedelta(seconds=60)


def due_deliveries_unqueued(at: dt.datetime | None = None) -> list[int]:
    """Due deliveries (for a minute at least) with no ready task row: a task lost with a
    pruned queue or a crash."""
    from django_tasks_db.models import DBTaskResult

    due = due_deliveries(due_before=(at or timezone.now()) - SWEEP_GRACE)
    if not due:
        return []
    waiting: set[int] = set()
    for args in (
        DBTaskResult.objects.ready()
        .filter(task_path__regex=r"\.deliver(_batch)?_task$")
        .values_list("args_kwargs", flat=True)
    ):
        try:
            first = args["args"][0]
            waiting.update(int(pk) for pk in (first if isinstance(first, list) else [first]))
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return [pk for pk in due if pk not in waiting]
