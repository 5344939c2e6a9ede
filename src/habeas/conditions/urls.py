"""URLs of the conditions pages (namespace ``conditions``, mounted at /alerts/)."""

from django.urls import path

from habeas.conditions import views

app_name = "conditions"
urlpatterns = [
    path("", views.alert_list, name="alerts"),
]
