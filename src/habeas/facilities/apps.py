from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "habeas.facilities"
    label = "facilities"

    def ready(self) -> None:
        from habeas.facilities import replay  # noqa: F401  (registers table-vs-ledger replay)
