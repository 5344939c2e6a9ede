from django.apps import AppConfig


class HousingConfig(AppConfig):
    name = "habeas.housing"
    label = "housing"
