from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "habeas.custody"
    label = "custody"
