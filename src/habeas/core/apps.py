from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "habeas.core"
    label = "core"

    def ready(self) -> None:
        from habeas.core.events import autodiscover

        autodiscover()
