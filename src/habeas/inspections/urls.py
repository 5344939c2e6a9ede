"""URLs of the inspection workspace (namespace ``inspections``, mounted at /inspections/)
and of the public reports page (namespace ``inspection_reports``)."""

from django.urls import path

from habeas.inspections import views

app_name = "inspections"
urlpatterns = [
    path("", views.inspection_home, name="home"),
    path("<int:pk>/", views.inspection_detail, name="detail"),
    path("<int:pk>/report.pdf", views.inspection_report, name="report"),
    path("reports/", views.public_reports, name="public"),
    path("reports/<int:pk>/report.pdf", views.public_report_pdf, name="public_pdf"),
]
