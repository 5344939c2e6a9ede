from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "habeas.core"
    label = "core"
