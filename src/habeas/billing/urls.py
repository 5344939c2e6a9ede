"""URLs of the finance pages (namespace ``billing``, mounted at /billing/)."""

from django.urls import path

from habeas.billing import views

app_name = "billing"
urlpatterns = [
    path("", views.billing_home, name="home"),
    path("<str:code>/", views.agreement_months, name="agreement"),
    path("<str:code>/<str:period>/", views.invoice_page, name="invoice"),
    path(
        "<str:code>/<str:period>/invoice.<str:fmt>",
        views.invoice_download,
        name="download",
    ),
    path("<str:code>/<str:period>/reconcile/", views.reconcile_page, name="reconcile"),
]
