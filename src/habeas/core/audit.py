"""Who looked at whose file (Mandela Rule 9: records are need-to-know; every access is
recorded). Pages and API handlers in any app call :func:`file_viewed`; the oversight app, which
keeps the access log and sits above them, registers the recorder at start-up. A hook rather
than an import keeps the apps' dependencies pointing downward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Recorder = Callable[..., Any]
_recorders: list[Recorder] = []
_query_recorders: list[Recorder] = []


def register(recorder: Recorder) -> None:
    if recorder not in _recorders:
        _recorders.append(recorder)


def register_query(recorder: Recorder) -> None:
    if recorder not in _query_recorders:
        _query_recorders.append(recorder)


def registry_probed(*, user: Any, query: str, subject: str, channel: str) -> None:
    """Record a read that probes the registry without opening one file: a manifest dry run
    (it stores nothing) or an identity matching call (Mandela Rule 9; the access log is their
    only trace). ``query`` is ``matching`` or ``dry_run``; ``subject`` says what was probed."""
    for recorder in _query_recorders:
        recorder(user=user, query=query, subject=subject, channel=channel)


def file_viewed(*, user: Any, person: Any, channel: str) -> None:
    """Record a view of ``person``'s file; call only after the scoped lookup succeeded."""
    for recorder in _recorders:
        recorder(user=user, person=person, channel=channel)
