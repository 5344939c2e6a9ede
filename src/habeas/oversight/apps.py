from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "habeas.oversight"
    label = "oversight"

    def ready(self) -> None:
        from habeas.core import audit
        from habeas.oversight.services import access_log_query, access_log_record

        audit.register(access_log_record)
        audit.register_query(access_log_query)
