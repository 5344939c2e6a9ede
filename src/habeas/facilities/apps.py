from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "habeas.facilities"
    label = "facilities"
