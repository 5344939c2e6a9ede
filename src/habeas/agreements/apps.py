from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "habeas.agreements"
    label = "agreements"

    def ready(self) -> None:
        from habeas.agreements import replay  # noqa: F401  (registers table-vs-ledger replay)
