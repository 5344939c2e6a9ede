from django.apps import AppConfig


class ConditionsConfig(AppConfig):
    """Conditions of detention: alerts (this issue), later readings, heat, incidents."""

    name = "habeas.conditions"
    label = "conditions"

    def ready(self) -> None:
        from habeas.conditions.alerts import person_alarms
        from habeas.core import alarms

        alarms.register(person_alarms)
        from habeas.conditions import readings_alerts

        readings_alerts.register()
        from habeas.conditions.cases_selectors import register as register_cases

        register_cases()
        from habeas.conditions.retention import daily_rollup
        from habeas.core import daily

        daily.register("readings_rollup", daily_rollup)
