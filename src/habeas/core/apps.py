from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    """``migrate`` (and so ``habeas init``) also creates the database cache's table
    (``settings.CACHE_TABLE``): the shared store of rate limits. Idempotent: it runs after
    each app's migrations and does nothing once the table exists."""
    from django.conf import settings
    from django.core.management import call_command

    backends = {c.get("BACKEND", "") for c in settings.CACHES.values()}
    if "django.core.cache.backends.db.DatabaseCache" in backends:
        call_command("createcachetable", database=using, verbosity=0)


def check_trusted_proxies(**kwargs: Any) -> list[checks.CheckMessage]:
    """``HABEAS_TRUSTED_PROXIES`` must list addresses or networks (``habeas check``)."""
    import ipaddress

    from django.conf import settings

    problems: list[checks.CheckMessage] = []
    for entry in getattr(settings, "HABEAS_TRUSTED_PROXIES", ()) or ():
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            problems.append(
                checks.Error(
                    f"HABEAS_TRUSTED_PROXIES: {entry!r} is not an address or a network",
                    hint="e.g. HABEAS_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8",
                    id="habeas.E001",
                )
            )
    return problems


class CoreConfig(AppConfig):
    name = "habeas.core"
    label = "core"

    def ready(self) -> None:
        from habeas.core.events import autodiscover

        autodiscover()
        post_migrate.connect(create_cache_table, dispatch_uid="habeas-cache-table")
        checks.register(check_trusted_proxies, checks.Tags.security)
