from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "habeas.custody"
    label = "custody"

    def ready(self) -> None:
        from habeas.custody import erasure  # noqa: F401  (its people.erased listener)
