"""The dashboard's "needs attention" panel: open alerts by severity and age, arrivals
expected, overdue returns, releases due in 7 days — scoped to the user, in a number of
queries that does not grow with the population."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.api import conftest as api_fixtures
from tests.transfers.helpers import row, to_csv

scene = api_fixtures.scene
client_for = api_fixtures.client_for


def attention_of(client: Client) -> dict[str, Any]:
    """The panel as the facility dashboard shows it (at /dashboard/ for every role; ``/`` is
    the dashboard for facility staff, the role's own home for the others)."""
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.context["attention"]


def test_panel_counts_what_staff_must_act_on(
    scene: dict[str, Any], client_for: Any, actor: Any
) -> None:
    from habeas.custody.absences import absence_start
    from habeas.transfers.services import manifest_accept, manifest_import

    # an absence whose return was due an hour after it began (long ago)
    start = dt.datetime(2025, 4, 1, 8, 0, tzinfo=dt.UTC)
    absence_start(
        actor=actor,
        person=scene["people"]["us"],
        kind="court",
        kind_other="",
        destination="Juzgado",
        authority="citation 1",
        reason="",
        escort="",
        started_at=start,
        expected_return_at=start + dt.timedelta(hours=1),
    )
    result = manifest_import(
        actor=actor,
        data=to_csv([row(sending_ref=f"N{i}", first_surname=f"Nuevo{i}") for i in range(2)]),
        agreement=scene["us"],
        ref="ATT1",
        decided_on=dt.date(2025, 3, 20),
    )
    assert result.manifest is not None
    manifest_accept(actor=actor, manifest=result.manifest, all_eligible=True)

    staff = attention_of(client_for("staff"))
    assert staff["arrivals_total"] == 2
    assert staff["arrivals"] == [{"manifest": "ATT1", "count": 2}]
    assert staff["overdue"] == 1
    assert staff["overdue_hours"] > 24
    # the removal order of gt_tec and the others: whatever is open is grouped by severity
    assert all(a["severity"] in ("high", "medium") for a in staff["alerts"])
    assert staff["alerts_total"] == sum(a["count"] for a in staff["alerts"])
    # staff of the other facility see neither TEC's arrivals nor its absences
    other = attention_of(client_for("staff_oth"))
    assert other["arrivals_total"] == 0
    assert other["overdue"] == 0
    # a liaison sees their state's arrivals, never housing detail
    liaison = attention_of(client_for("liaison_us"))
    assert liaison["arrivals_total"] == 2
    assert liaison["show_cells"] is False
    body = client_for("staff").get("/").content.decode()
    assert "Needs attention" in body
    assert "arrivals expected (accepted, not admitted)" in body
    assert "return overdue from a temporary absence" in body
    spanish = client_for("staff")
    spanish.cookies["django_language"] = "es"
    es_body = spanish.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Requiere atención" in es_body
    assert "llegadas previstas (aceptadas, sin ingresar)" in es_body


def test_panel_queries_do_not_grow_with_the_population(scene: dict[str, Any], actor: Any) -> None:
    from habeas.accounts.models import User
    from habeas.web.attention import needs_attention
    from tests.conftest import admit, make_person, sentence

    staff = User.objects.get(username="staff")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            needs_attention(staff)
        return len(ctx.captured_queries)

    before = queries()
    for i in range(6):
        person = make_person(actor, given_names="Extra", first_surname=f"Persona{i}")
        admit(actor, person, scene["tec"], scene["us"], bases=[sentence("P1Y")])
    assert queries() == before
    # the alerts are read once per version of the registry (+3 queries); roll counts due
    # read the scope's facilities, their latest counts and one EXISTS per facility due (+3)
    assert before <= 31
