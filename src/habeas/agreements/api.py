"""``/api/v1/agreements/``: the agreements the user's scope covers (STANDARDS.md: transfer
eligibility and billing terms). Liaison and finance see their state's agreements, facility
roles those covering their facilities, oversight and auditors all (``visible_to``)."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from habeas.accounts.auth import api_user
from habeas.agreements.models import Agreement, AgreementQuerySet
from habeas.core.api import DateStr, DecimalStr, date_str, errors
from habeas.core.errors import NotFound

router = Router(tags=["agreements"])

MSG_AGREEMENT_NOT_FOUND = "agreement not found"


class AgreementOut(Schema):
    """An agreement: parties, policy, quota, term and fee schedule (money as a decimal
    string with its currency beside it)."""

    code: str
    sending: str
    receiving: str
    policy: str
    policy_options: dict[str, Any]
    max_persons: int | None
    starts: DateStr
    ends: DateStr | None
    currency: str
    per_person_day: DecimalStr
    day_count: str
    facilities: list[str]

    @staticmethod
    def resolve_sending(obj: Agreement) -> str:
        return obj.sending.code

    @staticmethod
    def resolve_receiving(obj: Agreement) -> str:
        return obj.receiving.code

    @staticmethod
    def resolve_starts(obj: Agreement) -> str | None:
        return date_str(obj.starts)

    @staticmethod
    def resolve_ends(obj: Agreement) -> str | None:
        return date_str(obj.ends)

    @staticmethod
    def resolve_per_person_day(obj: Agreement) -> str:
        return str(obj.per_person_day)

    @staticmethod
    def resolve_facilities(obj: Agreement) -> list[str]:
        return sorted(f.code for f in obj.facilities.all())


def agreement_list(*, user: Any) -> AgreementQuerySet:
    """Scoped read (NetBox ``restrict``): every query starts from ``visible_to(user)``."""
    return (
        Agreement.objects.visible_to(user)
        .select_related("sending", "receiving")
        .prefetch_related("facilities")  # reverse M2M from facilities (apps depend downward)
        .order_by("code")
    )


@router.get(
    "/agreements/",
    response={200: list[AgreementOut], **errors()},
    summary="List agreements",
    operation_id="agreements_list",
)
def agreements_list(request: HttpRequest) -> list[Agreement]:
    return list(agreement_list(user=api_user(request)))


@router.get(
    "/agreements/{code}/",
    response={200: AgreementOut, **errors()},
    summary="An agreement",
    operation_id="agreements_get",
)
def agreements_get(request: HttpRequest, code: str) -> Agreement:
    """404 when the agreement is missing or outside the user's scope."""
    agreement = agreement_list(user=api_user(request)).filter(code=code).first()
    if agreement is None:
        raise NotFound(MSG_AGREEMENT_NOT_FOUND)
    return agreement
