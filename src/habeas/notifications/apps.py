from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications delivered: e-mail and signed webhooks from the outbox (Mandela Rules 68-69;
    VCCR art. 36), by the background worker."""

    name = "habeas.notifications"
    label = "notifications"
