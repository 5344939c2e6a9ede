from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "habeas.agreements"
    label = "agreements"
