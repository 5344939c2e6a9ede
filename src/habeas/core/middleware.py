"""Refusals made before a view runs (docs/interfaces.md, "Limits").

:class:`RequestLimitsMiddleware` answers 413 when the declared body is larger than the limit
(uploads: ``HABEAS_MAX_UPLOAD_BYTES``; other bodies: ``HABEAS_MAX_BODY_BYTES``), before a
byte of it is read, so an oversized upload is never spooled to disk; and 400 when the path or
the query string holds a NUL or a lone surrogate (PostgreSQL refuses NUL in text, so such a
value must never reach a query). Under ``/api/`` the answer is the API's one error document
(INTERFACES.md); elsewhere a short plain-text page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from habeas.core.limits import max_body_bytes, max_upload_bytes, unsafe_text

API_PREFIX = "/api/"


def error_document(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    """The API's error document under ``/api/``, a plain-text page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"code": code, "message": message, "details": details or {}}, status=status
        )
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestLimitsMiddleware:
    """Early refusals: oversized bodies (413) and unstorable characters in the URL (400)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return error_document(
                request, 400, "invalid", _("the Content-Length header is not a number")
            )
        content_type = request.META.get("CONTENT_TYPE", "")
        limit = max_upload_bytes() if content_type.startswith("multipart/") else max_body_bytes()
        if length > limit:
            return error_document(
                request,
                413,
                "too_large",
                _("the request body is too large"),
                {"limit_bytes": limit, "content_length": length},
            )
        if unsafe_text(request.path) or any(
            unsafe_text(key) or any(unsafe_text(v) for v in values)
            for key, values in request.GET.lists()
        ):
            return error_document(
                request,
                400,
                "invalid",
                _("the address holds a NUL, a control character or a lone surrogate"),
            )
        return None
