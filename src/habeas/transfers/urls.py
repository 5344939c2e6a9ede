"""Intake pages (namespace ``transfers``; the lead mounts them at /transfers/)."""

from django.urls import path

from habeas.transfers import views

app_name = "transfers"
urlpatterns = [
    path("", views.manifest_list_view, name="manifest_list"),
    path("manifests/<str:ref>/", views.manifest_detail, name="manifest_detail"),
    path("manifests/<str:ref>/accept/", views.manifest_accept_view, name="manifest_accept"),
    path(
        "manifests/<str:ref>/accept-eligible/",
        views.manifest_accept_eligible_view,
        name="manifest_accept_eligible",
    ),
    path(
        "manifests/<str:ref>/rows/<int:row>/compare/",
        views.entry_compare_view,
        name="entry_compare",
    ),
    path(
        "manifests/<str:ref>/rows/<int:row>/identity/",
        views.entry_identity_view,
        name="entry_identity",
    ),
    path("manifests/<str:ref>/admit/", views.manifest_admit_view, name="manifest_admit"),
    path(
        "manifests/<str:ref>/rows/<int:row>/arrive/",
        views.entry_arrive_view,
        name="entry_arrive",
    ),
    path("manifests/<str:ref>/withdraw/", views.manifest_withdraw_view, name="manifest_withdraw"),
    path("manifests/<str:ref>/history/", views.manifest_history, name="manifest_history"),
    path("admissions/<int:record_id>/", views.admission_record_view, name="admission_record"),
]
