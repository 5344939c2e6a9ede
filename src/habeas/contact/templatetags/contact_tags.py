"""The person page's contact section (one include line in web/person_detail.html): the
person's visits, calls and letters and open ``no_contact`` alarms, for the roles that may read
them (Mandela Rules 9, 58-62)."""

from __future__ import annotations

from typing import Any

from django import template

from habeas.accounts.permissions import may_read_contacts, may_record_contacts
from habeas.contact.alarms import person_no_contact
from habeas.contact.selectors import person_contact_history

register = template.Library()

#: Rows the person page shows; the contact page shows the rest.
SHOWN = 10


@register.inclusion_tag("contact/_person_section_body.html", takes_context=True)
def contact_section(context: Any, person: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not may_read_contacts(user) or person is None:
        return {"shown": False}
    history = person_contact_history(person)
    return {
        "shown": True,
        "person": person,
        "visits": history["visits"][:SHOWN],
        "contacts": history["contacts"][:SHOWN],
        "alarms": person_no_contact(person),
        "may_record": may_record_contacts(user),
    }
