from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "habeas.transfers"
    label = "transfers"
    verbose_name = "Transfers"
