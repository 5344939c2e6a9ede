from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "habeas.custody"
    label = "custody"

    def ready(self) -> None:
        from habeas.core.events import REGISTRY, on_appended
        from habeas.custody import (
            erasure,  # noqa: F401  (its people.erased listener)
            standing,
        )

        # Every custody action, wherever declared (``custody.transferred`` is housing's):
        # the core app's ready() has imported every events.py already.
        on_appended(*sorted(n for n in REGISTRY.actions if n.startswith("custody.")))(
            standing.on_custody_events
        )
        on_appended(*standing.REGISTRY_CHANGES)(standing.on_registry_changes)
