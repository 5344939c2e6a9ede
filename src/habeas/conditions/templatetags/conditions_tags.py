"""Template helpers of the alerts page: a subject as a link to where it can be dealt with."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from habeas.accounts.permissions import may_view_cells

register = template.Library()


@register.filter
def get_label(labels: dict[str, Any], key: str) -> Any:
    return labels.get(key, key)


@register.simple_tag(takes_context=True)
def alert_subject(context: Any, alert: Any) -> str:
    """``cell:TEC/M1-01`` → the cell page, ``module:TEC/M1`` → the housing board,
    ``person:42`` → the person's page (for users who may open them), else the plain text."""
    kind, _sep, rest = alert.subject.partition(":")
    user = context["request"].user
    if kind == "person":
        return format_html(
            '<a href="{}">{}</a> <span class="muted mono">№ {}</span>',
            reverse("web:person_detail", args=[int(rest)]),
            alert.label or alert.subject,
            rest,
        )
    if kind in {"cell", "module"} and may_view_cells(user):
        facility, _slash, code = rest.partition("/")
        if kind == "cell":
            url = reverse("housing:cell", args=[facility, code])
        else:
            url = reverse("housing:board", args=[facility]) + f"?module={code}"
        return format_html('<a href="{}">{}</a>', url, code)
    return str(alert.subject)
