"""Base for ``habeas`` commands: service refusals become exit 2 with the message on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError

from habeas.core.errors import ApplicationError
from habeas.core.limits import MSG_UNSAFE_TEXT, unsafe_text

T = TypeVar("T")


class HabeasCommand(BaseCommand):
    """Maps ``ApplicationError`` to exit 2 (bad input or refused, nothing written), and
    refuses with exit 2 an argument holding a NUL, a control character or a lone surrogate."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        for name, value in [("argument", a) for a in args] + list(options.items()):
            values = value if isinstance(value, list | tuple) else [value]
            if any(isinstance(v, str) and unsafe_text(v) for v in values):
                # PostgreSQL refuses NUL in text: a bad argument, never an internal error
                raise CommandError(f"{name}: {MSG_UNSAFE_TEXT}", returncode=2)
        try:
            return super().execute(*args, **options)
        except ApplicationError as exc:
            details = "".join(f"\n  {k}: {v}" for k, v in exc.details.items())
            raise CommandError(f"{exc.message}{details}", returncode=2) from exc


def progress(items: Iterable[T], *, total: int | None, description: str) -> Iterator[T]:
    """A rich progress bar on a terminal; silent when piped (INTERFACES.md)."""
    if not sys.stderr.isatty():
        yield from items
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


@contextmanager
def spinner(description: str) -> Iterator[None]:
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(description):
        yield


@contextmanager
def progress_bar(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal, advanced by the callable it yields (by a page of
    rows at a time); a no-op when piped (INTERFACES.md)."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
