from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "habeas.people"
    label = "people"

    def ready(self) -> None:
        from habeas.people import replay  # noqa: F401  (registers table-vs-ledger replay)
