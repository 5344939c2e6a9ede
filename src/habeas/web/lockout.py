"""The page shown when sign-in is locked (django-axes ``AXES_LOCKOUT_CALLABLE``).

Lockout is per (username, client address): after ``AXES_FAILURE_LIMIT`` wrong passwords the
pair is refused, even with the right password, until the cool-off passes or an administrator
unlocks it (``habeas unlock USERNAME``, or "Access attempts" in the Django admin). The same
rule holds for the web sign-in and for ``/admin/``, which both authenticate through the axes
backend. The answer is 429, in the user's language, and says nothing about whether the
account exists.
"""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return render(request, "web/locked_out.html", context, status=429)
