from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "habeas.custody"
    label = "custody"

    def ready(self) -> None:
        from habeas.custody import replay  # noqa: F401  (registers table-vs-ledger replay)
