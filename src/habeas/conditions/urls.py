"""URLs of the conditions pages (namespace ``conditions``, mounted at /alerts/)."""

from django.urls import path

from habeas.conditions import views

app_name = "conditions"
urlpatterns = [
    path("", views.alert_list, name="alerts"),
]

from habeas.conditions import readings_views  # noqa: E402

urlpatterns += [
    path("climate/<str:facility_code>/", readings_views.climate_board_page, name="climate"),
    path(
        "climate/<str:facility_code>/chart/",
        readings_views.climate_chart_page,
        name="climate_chart",
    ),
]
