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
def _service_context() -> Iterator[None]:
    """The context ``@service`` runs in. Private: code that needs several writes in one
    transaction writes a service that calls the others (nested services join the outer
    transaction), so every transaction of the one rule has a name."""
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
        with _service_context():
            return fn(*args, **kwargs)

    return wrapper


def _guard(what: str, model: type[models.Model]) -> None:
    if not in_service():
        raise WriteOutsideService(f"{model.__name__}: {what} outside a service")


class ServiceQuerySet(models.QuerySet[Any]):
    """Bulk writes (``update``, ``delete``, ``bulk_create``, ``bulk_update``) are refused
    outside a service too: they bypass ``save`` and would escape the ledger."""

    def update(self, **kwargs: Any) -> int:
        _guard("queryset update", self.model)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _guard("queryset delete", self.model)
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        _guard("bulk_create", self.model)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        _guard("bulk_update", self.model)
        return super().bulk_update(objs, *args, **kwargs)


class ServiceModel(models.Model):
    """Base of every domain model: saving or deleting is only allowed inside a service."""

    objects = ServiceQuerySet.as_manager()

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
