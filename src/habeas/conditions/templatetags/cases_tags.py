"""``{% person_cases person as cases %}``: the person page's incidents, sanctions and
complaints as the signed-in user may see them
(:func:`habeas.conditions.cases_views.person_cases`)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def person_cases(context: Any, person: Any) -> dict[str, Any]:
    from habeas.conditions.cases_views import person_cases as build

    request = context.get("request")
    return build(getattr(request, "user", None), person)
