from django.apps import AppConfig


class ContactConfig(AppConfig):
    """Outside contact: visits, lawyers, consuls, calls and letters, and the ``no_contact``
    alarm (Mandela Rules 43(3), 58-62; VCCR art. 36)."""

    name = "habeas.contact"
    label = "contact"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from habeas.conditions.alerts import register_source
        from habeas.contact.alarms import no_contact_alerts, no_contact_count, person_no_contact
        from habeas.core import alarms

        register_source("no_contact", no_contact_alerts, no_contact_count)
        alarms.register(person_no_contact)
