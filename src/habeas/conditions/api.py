"""``/api/v1/alerts``: the open alerts as the caller may see them (the ``alerts --json``
document of INTERFACES.md). Facility roles, oversight and auditors see every kind for their
facilities; a liaison or finance officer only ``legal_basis`` alerts about their own state's
transferees; anonymous callers get 401."""

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from habeas.accounts.auth import api_user
from habeas.conditions.alerts import KINDS, alert_documents_cached, alerts_cache_key
from habeas.conditions.services import alert_acknowledge
from habeas.core.actor import Actor
from habeas.core.api import errors, instant_str
from habeas.core.errors import NotFound, ValidationFailed
from habeas.facilities.models import Facility
from habeas.ledger.freshness import conditional

router = Router(tags=["alerts"])


class AcknowledgedOut(Schema):
    by: str
    at: str
    note: str


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
    acknowledged: AcknowledgedOut | None


class AlertsOut(Schema):
    alerts: list[AlertOut]


class AlertsIn(Schema):
    facility: str = Field("", description="a facility code")
    kind: str = Field("", description="one of: " + ", ".join(KINDS))
    open: bool = Field(False, description="only open alerts (not yet acknowledged)")


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
    kinds = [params.kind] if params.kind else []
    return conditional(
        request,
        "alerts",
        lambda version: HttpResponse(
            # orjson: ten thousand alerts are written in a tenth of the time of json.dumps
            orjson.dumps(
                alert_documents_cached(
                    user=user,
                    facility=facility,
                    kinds=kinds,
                    open_only=params.open,
                    version=version,
                )
            ),
            content_type="application/json",
        ),
        shared=False,
        parts=(alerts_cache_key(user, facility, tuple(kinds), params.open),),
    )


class AcknowledgeIn(Schema):
    alert: str = Field(..., examples=["space:cell:TEC/M1-01"], description="the alert's id")
    note: str = Field(..., min_length=1, description="what is being done about it")


class AcknowledgementOut(Schema):
    id: str
    alert: str
    since: str
    facility: str
    note: str
    acknowledged_by: str
    acknowledged_at: str


@router.post(
    "/alerts/acknowledgements",
    response={201: AcknowledgementOut, **errors(400, 401, 403, 404, 409)},
    summary="Acknowledge an open alert (the facility's staff and director)",
    operation_id="alert_acknowledge",
)
def alert_acknowledge_post(request: HttpRequest, body: AcknowledgeIn) -> Any:
    """The alert stays listed until its cause is fixed, now with status ``acknowledged``, who
    and what is being done. 404 when no such alert is open in the caller's scope; 403 for
    oversight, auditors, liaison and finance (they read alerts); 409 when this occurrence is
    already acknowledged."""
    user = api_user(request)
    ack = alert_acknowledge(
        actor=Actor.from_user(user), user=user, alert_id=body.alert, note=body.note
    )
    return Status(
        201,
        {
            "id": str(ack.pk),
            "alert": ack.alert,
            "since": ack.since,
            "facility": ack.facility.code,
            "note": ack.note,
            "acknowledged_by": ack.acknowledged_by,
            "acknowledged_at": str(instant_str(ack.acknowledged_at)),
        },
    )


from habeas.conditions import readings_api  # noqa: E402, F401
