"""``/api/v1/alerts``: the open alerts as the caller may see them (the ``alerts --json``
document of INTERFACES.md). Facility roles, oversight and auditors see every kind for their
facilities; a liaison or finance officer only ``legal_basis`` alerts about their own state's
transferees; anonymous callers get 401."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from habeas.accounts.auth import api_user
from habeas.conditions.alerts import KINDS, alerts_for
from habeas.core.api import errors
from habeas.core.errors import NotFound, ValidationFailed
from habeas.facilities.models import Facility

router = Router(tags=["alerts"])


class AlertOut(Schema):
    id: str = Field(..., examples=["space:cell:TEC/M1-01"])
    kind: str = Field(..., examples=["space"])
    subject: str = Field(..., examples=["cell:TEC/M1-01"])
    value: str
    since: str | None
    status: str = Field(..., examples=["open"])
    message: str
    facility: str
    rule: str = Field(..., examples=["A1"])
    citation: str


class AlertsOut(Schema):
    alerts: list[AlertOut]


class AlertsIn(Schema):
    facility: str = Field("", description="a facility code")
    kind: str = Field("", description="one of: " + ", ".join(KINDS))
    open: bool = Field(False, description="only open alerts (every computed alert is open)")


@router.get(
    "/alerts",
    response={200: AlertsOut, **errors(400, 401, 403, 404)},
    summary="Open alerts: space, capacity, roll count, no live legal basis",
    operation_id="alerts_list",
)
def alerts_get(request: HttpRequest, params: Query[AlertsIn]) -> Any:
    user = api_user(request)
    facility = None
    if params.facility:
        facility = Facility.objects.visible_to(user).filter(code=params.facility).first()
        if facility is None:
            raise NotFound(_("facility not found"))
    if params.kind and params.kind not in KINDS:
        raise ValidationFailed(_("unknown alert kind"), details={"kind": [", ".join(KINDS)]})
    alerts = alerts_for(user=user, facility=facility, kinds=[params.kind] if params.kind else [])
    return {"alerts": [a.document() for a in alerts]}
