"""URL map: the web UI, the API at /api/v1, Django admin for staff, language switch."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path

from habeas.api import api


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown paths under /api/v1/ answer with the API's one error document, not HTML."""
    return JsonResponse(
        {"code": "not_found", "message": "no such API endpoint", "details": {"path": request.path}},
        status=404,
    )


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("transfers/", include("habeas.transfers.urls")),
    path("", include("habeas.oversight.urls")),
    path("housing/", include("habeas.housing.urls")),
    path("alerts/", include("habeas.conditions.urls")),
    path("billing/", include("habeas.billing.urls")),
    path("", include("habeas.web.urls")),
]
