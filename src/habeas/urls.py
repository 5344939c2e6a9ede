"""URL map: the web UI, the API at /api/v1, Django admin for staff, language switch.

The error handlers answer under ``/api/`` with the API's one error document (INTERFACES.md),
also for what Django itself refuses before the API runs (a bad Host, a malformed request);
elsewhere with Django's own pages.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views import defaults

from habeas.api import api
from habeas.core.middleware import API_PREFIX, error_document


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
    path("inspections/", include("habeas.inspections.urls")),
    path("", include("habeas.contact.urls")),
    path("", include("habeas.web.urls")),
]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_document(request, 400, "invalid", _("the request is not valid"))
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_document(request, 403, "forbidden", _("you may not do this"))
    return defaults.permission_denied(request, exception)  # type: ignore[arg-type]


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_document(request, 404, "not_found", _("not found"))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest, *args: Any) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return error_document(request, 500, "internal_error", _("internal error"))
    return defaults.server_error(request)


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error
