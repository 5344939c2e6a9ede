from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "habeas.oversight"
    label = "oversight"
