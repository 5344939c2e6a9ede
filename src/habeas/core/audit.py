"""Who looked at whose file (Mandela Rule 9: records are need-to-know; every access is
recorded). Pages and API handlers in any app call :func:`file_viewed`; the oversight app, which
keeps the access log and sits above them, registers the recorder at start-up. A hook rather
than an import keeps the apps' dependencies pointing downward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Recorder = Callable[..., Any]
_recorders: list[Recorder] = []


def register(recorder: Recorder) -> None:
    if recorder not in _recorders:
        _recorders.append(recorder)


def file_viewed(*, user: Any, person: Any, channel: str) -> None:
    """Record a view of ``person``'s file; call only after the scoped lookup succeeded."""
    for recorder in _recorders:
        recorder(user=user, person=person, channel=channel)
