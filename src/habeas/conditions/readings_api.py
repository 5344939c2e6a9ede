"""``POST /api/v1/readings``: a batch of cell readings from a sensor gateway (issue 14,
item 1), the CSV's keys as JSON. The caller is a sensor token of the facility (``habeas
sensor-token create``, which may do nothing else) or an account of the facility (role
``facility_staff`` or ``facility_admin``, with an API token from ``habeas token``); a
reading for a cell of another facility is refused by row, the others are stored. Idempotent
on (cell, taken_at), like ``ingest-readings``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from habeas.accounts.auth import API_AUTH, api_user
from habeas.accounts.permissions import is_facility_user, scope_of
from habeas.conditions.api import router
from habeas.conditions.readings import CellIndex, readings_ingest, validate_rows
from habeas.conditions.readings_models import ReadingSource, SensorToken
from habeas.conditions.sensors import SensorTokenAuth, sensor_actor
from habeas.core.actor import Actor
from habeas.core.api import errors
from habeas.core.errors import Forbidden, ValidationFailed

MAX_READINGS = 50_000


class ReadingIn(Schema):
    cell: str = Field(..., examples=["TEC/M1-01"])
    taken_at: str = Field(..., examples=["2025-06-01T14:00:00Z"])
    temperature_c: float | str | None = Field(..., examples=[33.5])
    humidity_pct: float | str | None = Field(..., examples=[64])
    co2_ppm: float | str | None = None


class ReadingsIn(Schema):
    readings: list[ReadingIn]


class RowErrorOut(Schema):
    row: int
    column: str
    reason: str


class IngestOut(Schema):
    received: int
    stored: int
    unchanged: int
    batch: int | None
    alerts_opened: list[str]
    alerts_closed: list[str]
    errors: list[RowErrorOut]


@router.post(
    "/readings",
    auth=[SensorTokenAuth(), *API_AUTH],
    response={200: IngestOut, **errors(400, 401, 403, 404)},
    summary="Ingest a batch of cell readings (idempotent on cell and time)",
    operation_id="readings_ingest",
    tags=["readings"],
)
def readings_post(request: HttpRequest, body: ReadingsIn) -> Any:
    """Rows are numbered from 1 in the order sent; bad rows come back by row, column and
    reason (``errors``) and the rest are stored. Only the facility's own accounts send
    readings (oversight and auditors read them: 403)."""
    if len(body.readings) > MAX_READINGS:
        raise ValidationFailed(_("at most %(n)s readings a request") % {"n": MAX_READINGS})
    sensor = getattr(request, "auth", None)
    if isinstance(sensor, SensorToken):
        index = CellIndex(facility=sensor.facility.code)
        actor, name = sensor_actor(sensor), f"sensor:{sensor.prefix}"
    else:
        user = api_user(request)
        if not is_facility_user(user):
            raise Forbidden(_("only the facility's own accounts send readings; others read them"))
        index = CellIndex(facilities=scope_of(user).facility_codes or [])
        actor, name = Actor.from_user(user), f"api:{user.username}"
    records = [
        (n, (r.cell, r.taken_at, r.temperature_c, r.humidity_pct, r.co2_ppm))
        for n, r in enumerate(body.readings, start=1)
    ]
    rows, bad = validate_rows(records, index)
    report = readings_ingest(
        actor=actor,
        rows=rows,
        source=ReadingSource.API,
        name=name,
        cells=index,
        errors=bad,
    )
    return report.document()
