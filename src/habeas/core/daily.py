"""Jobs the worker runs once a day besides ``check-custody`` (which the notifications app owns):
an app above it registers its job at start-up, a hook rather than an import, as
:mod:`habeas.core.alarms` does, so the apps' dependencies keep pointing downward. The
conditions app registers the retention of readings (``rollup-readings``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Job = Callable[[Any], dict[str, int]]
_jobs: dict[str, Job] = {}


def register(name: str, job: Job) -> None:
    """``job(actor)`` returns counts to report; registering a name again replaces it."""
    _jobs[name] = job


def run_all(actor: Any) -> dict[str, int]:
    """Run every registered job; their counts prefixed by the job's name."""
    counts: dict[str, int] = {}
    for name, job in sorted(_jobs.items()):
        for key, value in job(actor).items():
            counts[f"{name}_{key}"] = value
    return counts
