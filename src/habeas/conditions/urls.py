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

from habeas.conditions import cases_views  # noqa: E402

urlpatterns += [
    path("incidents/", cases_views.incident_list_view, name="incidents"),
    path("incidents/new/", cases_views.incident_new, name="incident_new"),
    path("incidents/<int:incident_id>/", cases_views.incident_detail, name="incident_detail"),
    path("sanctions/", cases_views.sanctions_view, name="sanctions"),
    path("complaints/", cases_views.complaint_list_view, name="complaints"),
    path(
        "complaints.csv", cases_views.complaint_list_view, {"as_csv": True}, name="complaints_csv"
    ),
    path("complaints/new/", cases_views.complaint_new, name="complaint_new"),
    path("complaints/<int:complaint_id>/", cases_views.complaint_detail, name="complaint_detail"),
]
