"""The one rule (ARCHITECTURE.md): every change goes through a service that runs in one
transaction and writes its ledger entries in that same transaction.

``@service`` opens the transaction and marks the context, and ``ServiceModel.save`` refuses
to run outside it, so a view, API handler or command that saves a model fails loudly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.db import models, transaction

P = ParamSpec("P")
R = TypeVar("R")

_in_service: ContextVar[bool] = ContextVar("habeas_in_service", default=False)


class WriteOutsideService(RuntimeError):
    """A model was saved or deleted outside a service: the ledger would miss the change."""


def in_service() -> bool:
    return _in_service.get()


@contextmanager
def service_context() -> Iterator[None]:
    token = _in_service.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        _in_service.reset(token)


def service(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` in one transaction (nested services join the outer one)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with service_context():
            return fn(*args, **kwargs)

    return wrapper


class ServiceModel(models.Model):
    """Base of every domain model: saving or deleting is only allowed inside a service."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not in_service():
            raise WriteOutsideService(
                f"{type(self).__name__} saved outside a service; use the app's services.py"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if not in_service():
            raise WriteOutsideService(f"{type(self).__name__} deleted outside a service")
        return super().delete(*args, **kwargs)
