"""URLs of the oversight app (namespace ``oversight``), included once at the site root:
public ``/locator/`` and ``/statistics/``, oversight ``/oversight/…`` and the PDF export
``/people/<id>/file.pdf``."""

from django.urls import path

from habeas.oversight import views

app_name = "oversight"
urlpatterns = [
    path("locator/", views.locator, name="locator"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics.csv", views.statistics_csv, name="statistics_csv"),
    path("statistics.json", views.statistics_json, name="statistics_json"),
    path("oversight/", views.oversight_home, name="home"),
    path("oversight/access-log/", views.access_log, name="access_log"),
    path("people/<int:person_id>/file.pdf", views.person_file_pdf, name="person_file_pdf"),
]
