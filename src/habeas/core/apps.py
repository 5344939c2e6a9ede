from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    """``migrate`` (and so ``habeas init``) also creates the database cache's table
    (``settings.CACHE_TABLE``): the shared store of rate limits. Idempotent."""
    from django.conf import settings
    from django.core.management import call_command

    backends = {c.get("BACKEND", "") for c in settings.CACHES.values()}
    if "django.core.cache.backends.db.DatabaseCache" in backends:
        call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "habeas.core"
    label = "core"

    def ready(self) -> None:
        from habeas.core.events import autodiscover

        autodiscover()
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="habeas-cache-table")
