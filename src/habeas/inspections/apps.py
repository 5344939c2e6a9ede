from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    """Independent inspection (OPCAT arts. 4, 14, 20; Mandela Rules 83-85): registered
    inspection bodies, unannounced visits logged at the gate, private interviews recorded as
    having happened (never their content), findings and recommendations followed to closure,
    and the reports."""

    name = "habeas.inspections"
    label = "inspections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from habeas.conditions.alerts import register_source
        from habeas.conditions.retaliation import register_protected_acts
        from habeas.inspections.alerts import inspection_alerts
        from habeas.inspections.selectors import interview_acts_since

        register_source("inspection", inspection_alerts)
        register_protected_acts(interview_acts_since)
