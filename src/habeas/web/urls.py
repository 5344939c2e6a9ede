"""URLs of the web shell (namespace ``web``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from habeas.web import homes, views

app_name = "web"
urlpatterns = [
    path("", homes.home, name="dashboard"),
    path("dashboard/", views.dashboard, name="facility_dashboard"),
    path("home/liaison/", homes.liaison_home, name="home_liaison"),
    path("home/finance/", homes.finance_home, name="home_finance"),
    path("home/monitor/", homes.monitor_home, name="home_monitor"),
    path("ledger/verification/", homes.ledger_verification, name="ledger_verification"),
    path("ledger/checkpoint.txt", homes.ledger_checkpoint_download, name="ledger_checkpoint"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", views.person_list_view, name="person_list"),
    path("people.csv", views.person_list_view, {"as_csv": True}, name="person_list_csv"),
    path("people/<int:person_id>/", views.person_detail, name="person_detail"),
    path("releases-due/", views.releases_due_view, name="releases_due"),
    path(
        "releases-due.csv",
        views.releases_due_view,
        {"as_csv": True},
        name="releases_due_csv",
    ),
    # Moved for good to the housing cell page (301); kept so old links and bookmarks work.
    path(
        "facilities/<str:facility_code>/cells/<str:cell_code>/",
        views.cell_detail,
        name="cell_detail",
    ),
]
