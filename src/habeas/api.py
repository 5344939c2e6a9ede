"""The REST API at /api/v1 (django-ninja; OpenAPI at /api/v1/openapi.json, docs at
/api/v1/docs). INTERFACES.md: every command has a matching endpoint; documents use the same
keys as the ``--json`` CLI output (ids, money and dates as strings).

Authentication (``habeas.accounts.auth``): a bearer token (``Authorization: Bearer hb_…``)
or the web session; an account without a role gets 403. Every read is scoped by the app's
selectors (``visible_to``), so outside scope and missing are the same 404.

Every error is ONE document, ``{"code", "message", "details"}`` (``core.api.ErrorOut``):
service refusals (``ApplicationError``: its status, code, message and details), request
validation (400, ``details`` per field), 401, 403, 404 and ninja's own HTTP errors.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from habeas.accounts.auth import API_AUTH
from habeas.agreements.api import router as agreements_router
from habeas.billing.api import router as billing_router
from habeas.conditions.api import router as conditions_router
from habeas.contact.api import router as contact_router
from habeas.core.api import STATUS_CODES, StrictJsonParser
from habeas.core.errors import ApplicationError
from habeas.custody.api import router as custody_router
from habeas.facilities.api import router as facilities_router
from habeas.housing.api import router as housing_router
from habeas.inspections.api import router as inspections_router
from habeas.ledger.api import router as ledger_router
from habeas.oversight.api import router as oversight_router
from habeas.people.api import router as people_router
from habeas.transfers.api import router as transfers_router

api = NinjaAPI(
    title="Habeas API",
    version="1",
    description=(
        "Custody registry: who is held, where, on what legal basis, since when, under which "
        "agreement. Authenticate with `Authorization: Bearer hb_…` (`habeas token create`) "
        "or a signed-in session. Errors are `{code, message, details}`."
    ),
    urls_namespace="api",
    auth=API_AUTH,
    parser=StrictJsonParser(),
)


def error_response(
    request: HttpRequest,
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    body = {
        "code": code or STATUS_CODES.get(status, "error"),
        "message": message,
        "details": details or {},
    }
    return api.create_response(request, body, status=status)


def _field_name(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ())]
    if len(loc) > 1:
        return ".".join(loc[1:])  # drop the source ("query", "path", "body")
    return loc[0] if loc else "request"


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_response(request, exc.status, exc.message, code=exc.code, details=exc.details)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        if "msg" in error:
            fields.setdefault(_field_name(error), []).append(str(error["msg"]))
        else:  # ninja's own shape, e.g. {"cursor": "Invalid Cursor"}
            for name, message in error.items():
                fields.setdefault(str(name), []).append(str(message))
    return error_response(request, 400, _("the request is not valid"), details=fields)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, _("not found"))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else _("authentication required")
    response = error_response(request, 401, message)
    response["WWW-Authenticate"] = 'Bearer realm="habeas"'
    return response


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, str(exc) or _("you may not do this"))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals (CSRF check failed, throttled…) in the same document."""
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    """A body past Django's own limits (too many fields, too large to hold in memory) is the
    same error document: 413 for its size, 400 otherwise; never Django's HTML 400."""
    if isinstance(exc, RequestDataTooBig):
        return error_response(request, 413, _("the request body is too large"))
    return error_response(request, 400, _("the request is not valid"))


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    """A value the database cannot hold (too long for its column, out of its range) that
    slipped past the schemas: a 400, and the service's transaction was rolled back."""
    return error_response(request, 400, _("a value is too long or out of range"))


api.add_router("", people_router)
api.add_router("", custody_router)
api.add_router("", facilities_router)
api.add_router("", housing_router)
api.add_router("", agreements_router)
api.add_router("", ledger_router)
api.add_router("", transfers_router)
api.add_router("", conditions_router)
api.add_router("", billing_router)
api.add_router("", inspections_router)
api.add_router("", "habeas.conditions.cases_api.router")
api.add_router("", contact_router)
api.add_router("", oversight_router)
