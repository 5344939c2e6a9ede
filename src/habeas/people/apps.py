from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "habeas.people"
    label = "people"
