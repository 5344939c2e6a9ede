"""Every page × every role (and anonymous): one table, one generated check per cell.

The pages half of the roles matrix (issue 5, deliver 8; the API half is
tests/api/test_api_permissions.py). Rows are the site's pages — the web shell at the root,
intake at /transfers/, housing at /housing/, the public and oversight pages, the downloads
(statistics CSV and JSON, a person's file as PDF) and the forms' POST endpoints; columns are
the users of the ``users`` fixture (one per role of ARCHITECTURE.md, plus a member of staff of
another facility and a liaison of another state), a superuser and ``anonymous``.

Expected outcomes:

* ``200`` the page is shown; ``302`` a redirect that is not the login page (housing index →
  the only board, the login page → the dashboard, a form's post-redirect-get); ``301`` a page
  that moved for good (checked for everybody: the new page then decides); ``301`` a
  page moved for good (the web shell's old cell URL → the housing cell page);
* ``login`` a redirect to the login page (anonymous on a private page);
* ``403`` the user may see that the page exists but their role may not use it (oversight pages
  for non-oversight roles, a write by a role that only reads), and every private page for an
  account without a role (never an empty page: issue 10, deliver 8);
* ``404`` outside the user's scope, answered exactly like a missing object so existence is not
  revealed (Zulip ``access_stream_by_id``): a person of another state for a liaison, any
  housing page for a sending state's liaison or finance officer (Mandela Rule 9);
* ``400`` / ``405`` past the permission check, refused on the (empty) input or the method.

``POST:`` rows send an empty form (or only the fields after ``|``, urlencoded, where a page
holds several forms): they check the refusals, and that the roles allowed to write get past
the permission check (never 403, never 404 in scope) without writing anything — no ledger
entry and no row in any Habeas table (the one rule: a write always leaves a ledger entry, so a
half-written record would show in either). The access log is left out of that count: opening
a person's page records the view (Mandela Rule 9), whatever the method.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client

from tests.api.conftest import scene  # noqa: F401  (the API matrix's people, reused)
from tests.conftest import make_user
from tests.transfers.helpers import row, to_csv

TABLE = """
page               request                                        anonymous staff staff_oth admin liaison_us liaison_gt finance_us oversight auditor inspector norole superuser
dashboard          /                                              login     200   200       200   200        200        200        200       200     200       403    200
facility_dashboard /dashboard/                                    login     200   200       200   200        200        200        200       200     200       403    200
home_liaison       /home/liaison/                                 login     403   403       403   200        200        403        403       403     403       403    403
home_finance       /home/finance/                                 login     403   403       403   403        403        200        403       403     403       403    403
home_monitor       /home/monitor/                                 login     403   403       403   403        403        403        200       200     403       403    200
ledger_verify      /ledger/verification/                          login     403   403       403   403        403        403        200       200     403       403    200
ledger_checkpoint  /ledger/checkpoint.txt                         login     403   403       403   403        403        403        200       200     403       403    200
login              /login/                                        200       302   302       302   302        302        302        302       302     302       302    302
logout_get         /logout/                                       405       405   405       405   405        405        405        405       405     405       405    405
logout             POST:/logout/                                  login     login login     login login      login      login      login     login   login     login  login
people             /people/                                       login     200   200       200   200        200        200        200       200     200       403    200
people_q           /people/?q=Uno                                 login     200   200       200   200        200        200        200       200     200       403    200
person_us          /people/{p_us}/                                login     200   404       200   200        404        200        200       200     200       403    200
person_gt_oth      /people/{p_gt_oth}/                            login     404   200       404   404        200        404        200       200     404       403    200
person_gt_tec      /people/{p_gt_tec}/                            login     200   404       200   404        200        404        200       200     200       403    200
person_moved       /people/{p_moved}/                             login     200   200       200   200        200        200        200       200     200       403    200
person_absence_go  POST:/people/{p_us}/|form=absence_start        login     400   404       400   403        404        403        403       403     403       403    403
person_absence_end POST:/people/{p_us}/|form=absence_end          login     400   404       400   403        404        403        403       403     403       403    403
person_missing     /people/999999999/                             login     404   404       404   404        404        404        404       404     404       403    404
pdf_us             /people/{p_us}/file.pdf                        login     200   404       200   200        404        200        200       200     200       403    200
pdf_gt_oth         /people/{p_gt_oth}/file.pdf                    login     404   200       404   404        200        404        200       200     404       403    200
pdf_missing        /people/999999999/file.pdf                     login     404   404       404   404        404        404        404       404     404       403    404
web_cell_tec       /facilities/TEC/cells/M1-01/                   301       301   301       301   301        301        301        301       301     301       301    301
web_cell_oth       /facilities/OTH/cells/A-01/                    301       301   301       301   301        301        301        301       301     301       301    301
web_cell_missing   /facilities/TEC/cells/NOPE/                    301       301   301       301   301        301        301        301       301     301       301    301
locator            /locator/                                      200       200   200       200   200        200        200        200       200     200       200    200
locator_search     /locator/?nationality=VE&name=Ana+Uno&dob=1990 200       200   200       200   200        200        200        200       200     200       200    200
statistics         /statistics/                                   200       200   200       200   200        200        200        200       200     200       200    200
statistics_csv     /statistics.csv                                200       200   200       200   200        200        200        200       200     200       200    200
statistics_json    /statistics.json                               200       200   200       200   200        200        200        200       200     200       200    200
releases_due       /releases-due/                                 login     200   200       200   200        200        200        200       200     200       403    200
releases_due_csv   /releases-due.csv?days=60                      login     200   200       200   200        200        200        200       200     200       403    200
alerts             /alerts/                                       login     200   200       200   200        200        200        200       200     200       403    200
alerts_filtered    /alerts/?kind=space&facility=OTH               login     200   200       200   200        200        200        200       200     200       403    200
alerts_ack         POST:/alerts/                                  login     302   302       302   403        403        403        403       403     403       403    403
oversight          /oversight/                                    login     403   403       403   403        403        403        200       200     403       403    200
access_log         /oversight/access-log/                         login     403   403       403   403        403        403        200       200     403       403    200
manifests          /transfers/                                    login     200   200       200   200        200        200        200       200     200       403    200
manifest_upload    POST:/transfers/                               login     200   200       200   200        200        403        403       403     403       403    200
manifest_us        /transfers/manifests/US1/                      login     200   404       200   200        404        200        200       200     200       403    200
manifest_gt        /transfers/manifests/GT1/                      login     200   200       200   404        200        404        200       200     200       403    200
manifest_missing   /transfers/manifests/NOPE/                     login     404   404       404   404        404        404        404       404     404       403    404
history_us         /transfers/manifests/US1/history/              login     200   404       200   200        404        200        200       200     200       403    200
history_gt         /transfers/manifests/GT1/history/              login     200   200       200   404        200        404        200       200     200       403    200
accept_get         /transfers/manifests/US1/accept/               login     405   405       405   405        405        405        405       405     405       403    405
accept_us          POST:/transfers/manifests/US1/accept/          login     302   404       302   403        404        403        403       403     403       403    302
admit_get          /transfers/manifests/US1/admit/                login     405   405       405   405        405        405        405       405     405       403    405
admit_us           POST:/transfers/manifests/US1/admit/           login     302   404       302   403        404        403        403       403     403       403    302
withdraw_get       /transfers/manifests/US1/withdraw/             login     405   405       405   405        405        405        405       405     405       403    405
withdraw_us        POST:/transfers/manifests/US1/withdraw/        login     302   404       302   403        404        403        403       403     403       403    302
accept_elig_us     /transfers/manifests/US1/accept-eligible/      login     200   404       200   403        404        403        403       403     403       403    200
accept_elig_post   POST:/transfers/manifests/US1/accept-eligible/ login     302   404       302   403        404        403        403       403     403       403    302
accept_elig_gt     /transfers/manifests/GT1/accept-eligible/      login     200   200       200   404        403        404        403       403     403       403    200
compare_us         /transfers/manifests/US1/rows/1/compare/       login     200   404       200   200        404        200        200       200     200       403    200
compare_gt         /transfers/manifests/GT1/rows/1/compare/       login     200   200       200   404        200        404        200       200     200       403    200
compare_missing    /transfers/manifests/US1/rows/99/compare/      login     404   404       404   404        404        404        404       404     404       403    404
arrive_us          /transfers/manifests/US1/rows/1/arrive/        login     302   404       302   403        404        403        403       403     403       403    302
arrive_us_post     POST:/transfers/manifests/US1/rows/1/arrive/   login     302   404       302   403        404        403        403       403     403       403    302
arrive_gt          /transfers/manifests/GT1/rows/1/arrive/        login     302   302       302   404        403        404        403       403     403       403    302
arrive_missing     /transfers/manifests/US1/rows/99/arrive/       login     404   404       404   404        404        404        404       404     404       403    404
identity_get       /transfers/manifests/US1/rows/1/identity/      login     405   405       405   405        405        405        405       405     405       403    405
identity_us        POST:/transfers/manifests/US1/rows/1/identity/ login     302   404       302   403        404        403        403       403     403       403    302
identity_missing   POST:/transfers/manifests/US1/rows/99/identity/ login    404   404       404   404        404        404        404       404     404       403    404
accept_gt          POST:/transfers/manifests/GT1/accept/          login     302   302       302   404        403        404        403       403     403       403    302
accept_missing     POST:/transfers/manifests/NOPE/accept/         login     404   404       404   404        404        404        404       404     404       403    404
admission_us       /transfers/admissions/{rec_us}/                login     200   404       200   200        404        404        200       200     200       403    200
admission_missing  /transfers/admissions/999999999/               login     404   404       404   404        404        404        404       404     404       403    404
admission_write    POST:/transfers/admissions/{rec_us}/           login     200   404       200   403        404        404        403       403     403       403    200
housing            /housing/                                      login     302   302       302   404        404        404        200       200     302       403    200
board_tec          /housing/TEC/                                  login     200   404       200   404        404        404        200       200     200       403    200
board_oth          /housing/OTH/                                  login     404   200       404   404        404        404        200       200     404       403    200
board_missing      /housing/NOPE/                                 login     404   404       404   404        404        404        404       404     404       403    404
roll_tec           /housing/TEC/roll/                             login     200   404       200   404        404        404        200       200     200       403    200
roll_oth           /housing/OTH/roll/                             login     404   200       404   404        404        404        200       200     404       403    200
roll_count         POST:/housing/TEC/roll/                        login     400   404       400   404        404        404        403       403     403       403    403
occupancy_tec      /housing/TEC/occupancy/                        login     200   404       200   404        404        404        200       200     200       403    200
occupancy_oth      /housing/OTH/occupancy/                        login     404   200       404   404        404        404        200       200     404       403    200
cell_tec           /housing/TEC/cells/M1-01/                      login     200   404       200   404        404        404        200       200     200       403    200
cell_oth           /housing/OTH/cells/A-01/                       login     404   200       404   404        404        404        200       200     404       403    200
cell_missing       /housing/TEC/cells/NOPE/                       login     404   404       404   404        404        404        404       404     404       403    404
keep_aparts        /housing/keep-apart/                           login     200   200       200   404        404        404        200       200     200       403    200
keep_apart_open    POST:/housing/keep-apart/                      login     400   400       400   404        404        404        403       403     403       403    403
keep_apart_get     /housing/keep-apart/{ka}/close/                login     405   405       405   404        404        404        405       405     405       403    405
keep_apart_close   POST:/housing/keep-apart/{ka}/close/           login     302   404       302   404        404        404        403       403     403       403    403
keep_apart_none    POST:/housing/keep-apart/999999999/close/      login     404   404       404   404        404        404        403       403     403       403    403
move_us            /housing/people/{p_us}/move/                   login     200   404       200   404        404        404        200       200     200       403    200
move_gt_oth        /housing/people/{p_gt_oth}/move/               login     404   200       404   404        404        404        200       200     404       403    200
move_moved         /housing/people/{p_moved}/move/                login     404   200       404   404        404        404        200       200     404       403    200
move_missing       /housing/people/999999999/move/                login     404   404       404   404        404        404        404       404     404       403    404
move_write         POST:/housing/people/{p_us}/move/              login     400   404       400   404        404        404        403       403     403       403    403
release_us         /housing/people/{p_us}/release/                login     200   404       200   404        404        404        403       403     403       403    403
release_gt_oth     /housing/people/{p_gt_oth}/release/            login     404   200       404   404        404        404        403       403     404       403    403
release_missing    /housing/people/999999999/release/             login     404   404       404   404        404        404        404       404     404       403    404
release_write      POST:/housing/people/{p_us}/release/           login     400   404       400   404        404        404        403       403     403       403    403
transfer_us        /housing/people/{p_us}/transfer/               login     200   404       200   404        404        404        403       403     403       403    403
transfer_gt_oth    /housing/people/{p_gt_oth}/transfer/           login     404   200       404   404        404        404        403       403     404       403    403
transfer_missing   /housing/people/999999999/transfer/            login     404   404       404   404        404        404        404       404     404       403    404
transfer_write     POST:/housing/people/{p_us}/transfer/          login     400   404       400   404        404        404        403       403     403       403    403
billing            /billing/                                      login     200   200       200   200        200        200        200       200     200       403    200
billing_us         /billing/US-SV/                                login     200   404       200   200        404        200        200       200     200       403    200
billing_missing    /billing/NOPE/                                 login     404   404       404   404        404        404        404       404     404       403    404
invoice_us         /billing/US-SV/2025-03/                        login     200   404       200   200        404        200        200       200     200       403    200
invoice_gt         /billing/GT-SV/2025-03/                        login     200   200       200   404        200        404        200       200     200       403    200
invoice_bad        /billing/US-SV/2025-13/                        login     404   404       404   404        404        404        404       404     404       403    404
invoice_post       POST:/billing/US-SV/2025-03/                   login     403   404       403   403        404        403        403       403     403       403    400
invoice_pdf        /billing/US-SV/2025-03/invoice.pdf             login     200   404       200   200        404        200        200       200     200       403    200
invoice_csv        /billing/GT-SV/2025-03/invoice.csv             login     200   200       200   404        200        404        200       200     200       403    200
invoice_xml        /billing/US-SV/2025-03/invoice.xml             login     404   404       404   404        404        404        404       404     404       403    404
reconcile_us       /billing/US-SV/2025-03/reconcile/              login     403   404       403   200        404        200        200       200     403       403    200
reconcile_post     POST:/billing/US-SV/2025-03/reconcile/         login     403   404       403   400        404        400        400       400     403       403    400
inspections        /inspections/                                  login     200   200       200   403        403        403        200       200     200       403    200
inspections_log    POST:/inspections/                             login     403   403       403   403        403        403        403       403     302       403    403
inspection         /inspections/{ins}/                            login     200   404       200   403        403        403        200       200     200       403    200
inspection_post    POST:/inspections/{ins}/                       login     403   404       403   403        403        403        403       403     400       403    403
inspection_pdf     /inspections/{ins}/report.pdf                  login     200   404       200   403        403        403        200       200     200       403    200
inspection_reports /inspections/reports/                          200       200   200       200   200        200        200        200       200     200       200    200
inspection_public  /inspections/reports/{ins}/report.pdf          200       200   200       200   200        200        200        200       200     200       200    200
climate_tec        /alerts/climate/TEC/                           login     200   404       200   404        404        404        200       200     200       403    200
climate_oth        /alerts/climate/OTH/                           login     404   200       404   404        404        404        200       200     404       403    200
climate_missing    /alerts/climate/NOPE/                          login     404   404       404   404        404        404        404       404     404       403    404
climate_chart      /alerts/climate/TEC/chart/?module=M1&days=30   login     200   404       200   404        404        404        200       200     200       403    200
climate_chart_cell /alerts/climate/TEC/chart/?cell=M1-01&days=2   login     200   404       200   404        404        404        200       200     200       403    200
climate_chart_none /alerts/climate/TEC/chart/?cell=NOPE           login     404   404       404   404        404        404        404       404     404       403    404
people_filtered    /people/?status=held&nationality=SV&sort=-cell login     200   200       200   200        200        200        200       200     200       403    200
people_csv         /people.csv?q=Uno                              login     200   200       200   200        200        200        200       200     200       403    200
incidents          /alerts/incidents/                             login   200   200   200   404   404   404   200   404   404   403   200
incidents_filter   /alerts/incidents/?kind=assault&status=open    login   200   200   200   404   404   404   200   404   404   403   200
incident_new       /alerts/incidents/new/                         login   200   200   200   404   404   404   403   404   404   403   403
incident_new_post  POST:/alerts/incidents/new/                    login   400   400   400   404   404   404   403   404   404   403   403
incident_tec       /alerts/incidents/{inc}/                       login   200   404   200   404   404   404   200   404   404   403   200
incident_post      POST:/alerts/incidents/{inc}/                  login   302   404   302   404   404   404   403   404   404   403   403
incident_missing   /alerts/incidents/999999999/                   login   404   404   404   404   404   404   404   404   404   403   404
sanctions          /alerts/sanctions/                             login   200   200   200   404   404   404   200   404   404   403   200
sanctions_post     POST:/alerts/sanctions/                        login   400   400   400   404   404   404   403   404   404   403   403
complaints         /alerts/complaints/                            login   200   200   200   404   404   404   200   404   404   403   200
complaints_search  /alerts/complaints/?q=Zorro&overdue=1          login   200   200   200   404   404   404   200   404   404   403   200
complaints_csv     /alerts/complaints.csv                         login   200   200   200   404   404   404   200   404   404   403   200
complaint_new      /alerts/complaints/new/                        login   200   200   200   404   404   404   200   404   404   403   200
complaint_new_post POST:/alerts/complaints/new/                   login   400   400   400   404   404   404   400   404   404   403   400
complaint_tec      /alerts/complaints/{cmp}/                      login   200   404   200   404   404   404   200   404   404   403   200
complaint_conf     /alerts/complaints/{cmp_conf}/                 login   404   404   404   404   404   404   200   404   404   403   200
complaint_post     POST:/alerts/complaints/{cmp}/                 login   302   404   302   404   404   404   302   404   404   403   302
complaint_conf_post POST:/alerts/complaints/{cmp_conf}/            login   404   404   404   404   404   404   302   404   404   403   302
complaint_missing  /alerts/complaints/999999999/                  login   404   404   404   404   404   404   404   404   404   403   404
contact_home       /contact/                                      login   302   302   302   403   403   403   302   302   302   403   302
contact_day_tec    /contact/TEC/?day=2025-03-20                   login   200   404   200   403   403   403   200   200   200   403   200
contact_day_oth    /contact/OTH/                                  login   404   200   404   403   403   403   200   200   404   403   200
contact_day_none   /contact/NOPE/                                 login   404   404   404   403   403   403   404   404   404   403   404
contact_person_us  /contact/people/{p_us}/                        login   200   404   200   403   403   403   200   200   200   403   200
contact_person_oth /contact/people/{p_gt_oth}/                    login   404   200   404   403   403   403   200   200   404   403   200
contact_person_log POST:/contact/people/{p_us}/|form=log          login   400   404   400   403   403   403   403   403   403   403   400
contact_visit_get  /contact/visits/999999999/                     login   405   405   405   405   405   405   405   405   405   405   405
contact_visit_post POST:/contact/visits/999999999/                login   404   404   404   403   403   403   404   404   404   403   404
visiting           /visiting/                                     200   200   200   200   200   200   200   200   200   200   200   200
visit_request      /visiting/request/                             200   200   200   200   200   200   200   200   200   200   200   200
visit_request_post POST:/visiting/request/                        400   400   400   400   400   400   400   400   400   400   400   400
"""

#: Routes that are not pages of the site: the API (its own matrix), Django's admin (staff
#: only, tests/web/test_admin.py) and the language switch (a technical POST for everyone).
NOT_PAGES = ("admin/", "api/", "^api/", "i18n/")

ARRIVED = dt.datetime(2025, 3, 21, 20, 5, tzinfo=dt.UTC)


def _parse(table: str) -> tuple[list[str], list[tuple[str, str, str, dict[str, str]]]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, body = lines[0], lines[1:]
    columns = header[2:]
    rows = []
    for line in body:
        name, request, outcomes = line[0], line[1], line[2:]
        assert len(outcomes) == len(columns), f"row {name} has {len(outcomes)} columns"
        method, _, url = (
            request.partition(":") if request.startswith("POST:") else ("GET", "", request)
        )
        rows.append((name, method, url, dict(zip(columns, outcomes, strict=True))))
    return columns, rows


COLUMNS, ROWS = _parse(TABLE)


def test_table_covers_every_user_of_the_fixture(users: dict[str, Any]) -> None:
    assert set(COLUMNS) == {*users, "anonymous", "superuser"}


def _routes() -> Iterator[str]:
    """Every URL pattern of the site, as its full route (``people/<int:person_id>/``)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    yield from walk(get_resolver().url_patterns, "")


def test_table_covers_every_page_of_the_site() -> None:
    """A new page must get a row: every route of the resolver (but the API, the admin and
    the language switch) is reached by some row of the table."""
    from django.urls import Resolver404, resolve

    placeholders: defaultdict[str, str] = defaultdict(lambda: "1")
    covered = set()
    for name, _method, url, _outcomes in ROWS:
        try:
            path = url.format_map(placeholders).split("|")[0].split("?")[0]
            covered.add(resolve(path).route)
        except Resolver404:
            pytest.fail(f"row {name}: {url} is no page of the site")
    pages = [route for route in _routes() if not route.startswith(NOT_PAGES)]
    assert pages, "the resolver lists no page"
    missing = [route for route in pages if route not in covered]
    assert not missing, f"no row in TABLE for {missing}"


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """The locator's rate limit lives in the shared cache (the database cache by default):
    every column that reaches the database starts from a clean one."""
    from django.core.cache import cache

    if request.node.get_closest_marker("django_db") is None and not any(
        name in request.fixturenames for name in ("db", "transactional_db")
    ):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pages_scene(scene: dict[str, Any], users: dict[str, Any], actor: Any) -> dict[str, Any]:  # noqa: F811
    """The API matrix's scene (people of the US and Guatemalan agreements in TEC and OTH)
    plus a manifest per agreement (US1 admitted, so with its Rule 7 record; GT1 decided), a
    keep-apart record in TEC and a superuser."""
    from habeas.housing.services import keep_apart_open
    from habeas.transfers.services import manifest_accept, manifest_admit, manifest_import

    on = dt.date(2025, 3, 20)
    us = manifest_import(
        actor=actor, data=to_csv([row()]), agreement=scene["us"], ref="US1", decided_on=on
    ).manifest
    assert us is not None
    manifest_accept(actor=actor, manifest=us, all_eligible=True)
    (episode,) = manifest_admit(actor=actor, manifest=us, arrived_at=ARRIVED)
    manifest_import(
        actor=actor,
        data=to_csv([row(sending_ref="G1", nationalities="SV", consent="yes")]),
        agreement=scene["gt"],
        ref="GT1",
        decided_on=on,
    )
    people = scene["people"]
    ka = keep_apart_open(
        actor=actor, person=people["us"], other=people["gt_tec"], scope="module", reason="threats"
    )
    superuser = make_user(
        username="superuser", password="pw-superuser-long", is_staff=True, is_superuser=True
    )
    inspection = _inspection(actor, scene, users)
    from habeas.ledger.proofs import checkpoint_issue

    checkpoint_issue()  # the download row needs one signed checkpoint
    from habeas.conditions.complaints import complaint_file
    from habeas.conditions.incidents import Involved, incident_record
    from habeas.core.clock import now

    inc = incident_record(
        actor=actor,
        facility=scene["tec"],
        kind="assault",
        occurred_at=now(),
        description="A fight",
        people=[Involved(people["us"], "victim")],
    )
    cmp = complaint_file(
        actor=actor, person=people["gt_tec"], facility=scene["tec"], kind="complaint",
        category="conditions", text="No water",
    )  # fmt: skip
    cmp_conf = complaint_file(
        actor=actor, person=people["us"], facility=scene["tec"], kind="complaint",
        category="ill_treatment", text="Beaten by Zorro", confidential=True,
    )  # fmt: skip
    return {
        "users": {**users, "superuser": superuser},
        "ids": {
            **{f"p_{key}": person.pk for key, person in people.items()},
            "ka": ka.pk,
            "rec_us": episode.admission_record.pk,
            "ins": inspection.pk,
            "inc": inc.pk,
            "cmp": cmp.pk,
            "cmp_conf": cmp_conf.pk,
        },
    }


def _inspection(actor: Any, scene: dict[str, Any], users: dict[str, Any]) -> Any:  # noqa: F811
    """An unannounced inspection of TEC, admitted, ended, its report published."""
    from habeas.inspections import services as ins

    body = ins.inspection_body_register(
        actor=actor, name="NPM", kind="npm", mandate="OPCAT", facility_codes=["TEC"]
    )
    ins.inspector_appoint(actor=actor, body=body, user=users["inspector"])
    visit = ins.inspection_arrive(
        actor=actor, body=body, facility=scene["tec"], inspectors=["inspector"],
        arrived_at=ARRIVED,
    )  # fmt: skip
    ins.inspection_gate_record(actor=actor, inspection=visit, admitted=True, at=ARRIVED)
    ins.inspection_end(actor=actor, inspection=visit, at=ARRIVED + dt.timedelta(hours=6))
    return ins.inspection_report_publish(actor=actor, inspection=visit)


def _counts() -> dict[str, int]:
    """Rows per Habeas table and the ledger size: any write shows here (but a view recorded
    in the access log)."""
    from django.apps import apps
    from django.db import connection

    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model.__module__.startswith("habeas.")
            and model._meta.managed
            and not model._meta.proxy
            and model._meta.label != "oversight.AccessLog"
        }
    )
    quote = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:  # one round trip, not one query per table
        cursor.execute(f"SELECT {counts}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _outcome(response: Any) -> str:
    if response.status_code == 302:
        return "login" if response["Location"].startswith("/login/") else "302"
    return str(response.status_code)


@pytest.mark.parametrize("user", COLUMNS)
def test_access(pages_scene: dict[str, Any], user: str) -> None:
    """One test per column (the scene is built once per user, not once per cell); every
    mismatching cell is reported with its URL, user, expected and actual outcome."""
    wrong = []
    client = Client()  # one client per column: each new one loads the middleware again
    for name, method, template, outcomes in ROWS:
        if user != "anonymous" and "_auth_user_id" not in client.session:
            client.force_login(pages_scene["users"][user])  # again after the logout row
        url, _, body = template.format(**pages_scene["ids"]).partition("|")
        expected = outcomes[user]
        if method == "POST":
            before = _counts()
            got = _outcome(client.post(url, QueryDict(body)))
            after = _counts()
            written = {k: (v, after[k]) for k, v in before.items() if after[k] != v}
            if written:
                wrong.append(f"{name}: POST {url} as {user} wrote {written}")
        else:
            got = _outcome(client.get(url))
        if got != expected:
            wrong.append(f"{name}: {method} {url} as {user}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_refusal_page_says_why(pages_scene: dict[str, Any]) -> None:
    """A 403 is the site's page (layout, a way back) with the reason, not a bare error."""
    client = Client()
    client.force_login(pages_scene["users"]["oversight"])
    response = client.post("/housing/TEC/roll/", {})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html
    assert "Your role may read housing but not change it." in html
    assert 'href="/"' in html
