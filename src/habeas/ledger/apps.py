from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "habeas.ledger"
    label = "ledger"
    verbose_name = "Ledger"
