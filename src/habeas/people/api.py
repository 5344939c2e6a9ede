"""``/api/v1/persons/``: the registry as the user may see it (Mandela Rules 7(a) and 9).

The person's file (``/api/v1/persons/{id}/``) is served by ``habeas.custody.api``: it needs
custody state, and apps depend downward only.
"""

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from habeas.accounts.auth import api_user
from habeas.core.api import Pagination, errors
from habeas.people.models import Person, PersonIdentifier, PersonQuerySet
from habeas.people.selectors import person_list

router = Router(tags=["persons"])


class PersonOut(Schema):
    """A registry entry: identity only, no custody or housing detail."""

    id: str
    given_names: str
    first_surname: str
    second_surname: str
    date_of_birth: str | None  # YYYY, YYYY-MM or YYYY-MM-DD: the precision that is known
    sex: str
    nationalities: list[str]
    sending_refs: list[str]

    @staticmethod
    def resolve_id(obj: Person) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_date_of_birth(obj: Person) -> str | None:
        return obj.date_of_birth_display or None

    @staticmethod
    def resolve_nationalities(obj: Person) -> list[str]:
        return [str(c) for c in obj.nationalities]

    @staticmethod
    def resolve_sending_refs(obj: Person) -> list[str]:
        return [i.value for i in obj.identifiers.all()]


class PersonFilter(Schema):
    q: str = ""


@router.get(
    "/persons/",
    response={200: list[PersonOut], **errors()},
    summary="List people",
    operation_id="persons_list",
)
@paginate(Pagination)
def persons_list(request: HttpRequest, filters: Query[PersonFilter]) -> PersonQuerySet:
    """People the user may see (scope: ``Person.objects.visible_to``); ``q`` matches every
    word against names, or a sending reference exactly."""
    return person_list(user=api_user(request), query=filters.q.strip()).prefetch_related(
        Prefetch(
            "identifiers",
            queryset=PersonIdentifier.objects.filter(kind="sending_ref").order_by("pk"),
        )
    )
