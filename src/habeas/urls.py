"""URL map: the web UI, the API at /api/v1, Django admin for staff, language switch."""

from django.contrib import admin
from django.urls import include, path

from habeas.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("habeas.web.urls")),
]
