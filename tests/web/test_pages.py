"""The web shell per role: allowed, 404 outside scope, login required; escaping; Spanish;
bounded query counts (no N+1)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import admit, make_person, removal_order

SCRIPT_NAME = "<script>alert('x')</script>"


@pytest.fixture
def people(world: dict[str, Any], users: dict[str, Any], actor: Any) -> dict[str, Any]:
    """US people in TEC (one with a hostile name), a Guatemalan transferee in OTH."""
    us_1 = make_person(actor, given_names="José Alberto", first_surname="Hernández")
    admit(actor, us_1, world["tec"], world["us"], cell="M1-01")
    hostile = make_person(actor, given_names=SCRIPT_NAME, first_surname="O'Brien & Sons")
    admit(actor, hostile, world["tec"], world["us"], cell="M1-01")
    civil = make_person(actor, given_names="Luis", first_surname="Pérez")
    admit(actor, civil, world["tec"], world["us"], bases=[removal_order()], cell="M2-01")
    gt = make_person(
        actor,
        given_names="Ana Lucía",
        first_surname="Xol",
        sex="F",
        nationality="GT",
        authority="GT",
    )
    gt_man = make_person(
        actor, given_names="Mateo", first_surname="Tzul", nationality="GT", authority="GT"
    )
    admit(actor, gt_man, world["oth"], world["gt"], cell="A-01")
    return {"us_1": us_1, "hostile": hostile, "civil": civil, "gt": gt_man, "never_held": gt}


def client_for(user: Any, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def cell_url(facility: str, cell: str) -> str:
    """The cell page (the housing one: the web shell's old URL redirects there)."""
    return reverse("housing:cell", args=[facility, cell])


def person_url(person: Any) -> str:
    return reverse("web:person_detail", args=[person.pk])


# --- login, logout, anonymous ------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_renders_and_signs_in(users: dict[str, Any]) -> None:
    client = Client()
    page = client.get(reverse("web:login"))
    assert page.status_code == 200
    assert b"Sign in to Habeas" in page.content
    response = client.post(
        reverse("web:login"), {"username": "staff", "password": "pw-staff-long-passphrase"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")


@pytest.mark.django_db
def test_login_refuses_a_wrong_password(users: dict[str, Any]) -> None:
    response = Client().post(reverse("web:login"), {"username": "staff", "password": "nope"})
    assert response.status_code == 200
    assert b"There is a problem" in response.content


@pytest.mark.django_db
def test_logout_is_a_post_and_returns_to_login(users: dict[str, Any]) -> None:
    client = client_for(users["staff"])
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert client.get(reverse("web:dashboard")).status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        reverse("web:dashboard"),
        reverse("web:person_list"),
        reverse("web:person_detail", args=[1]),
        reverse("housing:cell", args=["TEC", "M1-01"]),
    ],
)
@pytest.mark.django_db
def test_anonymous_is_sent_to_login(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


# --- dashboard ---------------------------------------------------------------------------


def squares(content: bytes) -> list[str]:
    return re.findall(r'class="cell-square band-[a-z]+"', content.decode())


@pytest.mark.django_db
def test_dashboard_staff_sees_own_facility_grid_with_links(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    response = client_for(users["staff"]).get(reverse("web:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Test centre" in body
    assert "Other centre" not in body
    assert len(squares(response.content)) == 6  # 3 + 2 + 1 cells in TEC
    assert f'href="{cell_url("TEC", "M1-01")}"' in body
    # M1-01 holds 2 of a certified 5 (18 m² / 3.4): the "ok" band, with its numbers in the title
    assert re.search(r'class="cell-square band-ok" href="[^"]+M1-01/" title="M1-01 · 2 held', body)


@pytest.mark.django_db
def test_dashboard_shows_rates_and_module_table(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    body = client_for(users["staff"]).get(reverse("web:dashboard")).content.decode()
    # TEC: 3 people; certified 5+5+5 + 5+5 + 3 = 28 (ICRC), working 4*5 + 2 = 22
    assert "Civil / administrative" in body
    assert "10.7" in body  # 3 × 100 / 28
    assert "13.6" in body  # 3 × 100 / 22


@pytest.mark.parametrize("role", ["liaison_us", "finance_us"])
@pytest.mark.django_db
def test_dashboard_liaison_and_finance_see_totals_without_cells(
    people: dict[str, Any], users: dict[str, Any], role: str
) -> None:
    # their home is their own page (tests/web/test_homes.py); the dashboard has its address
    response = client_for(users[role]).get(reverse("web:facility_dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Test centre" in body
    assert squares(response.content) == []
    assert "/cells/" not in body
    assert "Mandela Rule 10" in body


@pytest.mark.django_db
def test_dashboard_oversight_sees_every_facility(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    response = client_for(users["oversight"]).get(reverse("web:facility_dashboard"))
    body = response.content.decode()
    assert "Test centre" in body
    assert "Other centre" in body
    assert len(squares(response.content)) == 7


@pytest.mark.django_db
def test_dashboard_user_without_role_is_refused_with_the_reason(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    """An account without a role has no scope: 403 with the reason, not an empty page."""
    response = client_for(users["norole"]).get(reverse("web:dashboard"))
    assert response.status_code == 403
    assert "your account has no role" in response.content.decode()


@pytest.mark.django_db
def test_dashboard_footer_shows_ledger_size_and_root(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    from habeas.ledger.services import ledger_root, ledger_size

    body = client_for(users["staff"]).get(reverse("web:dashboard")).content.decode()
    size = ledger_size()
    assert f"{size:,} entries" in body
    assert ledger_root(size).hex()[:16] in body


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_people(
    world: dict[str, Any], users: dict[str, Any], actor: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(users["oversight"])
    admit(actor, make_person(actor, given_names="First"), world["tec"], world["us"])
    # constant: session, user, page rows, ledger footer (head, leaves, nodes), and the
    # "needs attention" panel (alerts, arrivals, overdue returns, releases due)
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("web:facility_dashboard"))
    for n in range(6):
        person = make_person(actor, given_names=f"P{n}")
        admit(actor, person, world["tec"], world["us"])
    with CaptureQueriesContext(connection) as after:
        response = client.get(reverse("web:facility_dashboard"))
    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    # a constant number: the "needs attention" panel's sources (alerts read once per version
    # of the registry, contact, inspections), the navigation of the new pages and the roll
    # counts due (the scope's facilities, their latest counts, one EXISTS per facility due)
    assert len(after.captured_queries) <= 43, len(after.captured_queries)


# --- people ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("staff", ["us_1", "civil"], ["gt"]),
        ("staff_oth", ["gt"], ["us_1", "civil"]),
        ("liaison_us", ["us_1", "civil"], ["gt"]),
        ("liaison_gt", ["gt"], ["us_1", "civil"]),
        ("oversight", ["us_1", "civil", "gt"], []),
        ("auditor", ["us_1", "civil", "gt"], []),
        ("norole", [], ["us_1", "civil", "gt"]),
    ],
)
@pytest.mark.django_db
def test_people_list_is_scoped(
    people: dict[str, Any],
    users: dict[str, Any],
    role: str,
    visible: list[str],
    hidden: list[str],
) -> None:
    body = client_for(users[role]).get(reverse("web:person_list")).content.decode()
    for key in visible:
        assert person_url(people[key]) in body, key
    for key in hidden:
        assert person_url(people[key]) not in body, key


@pytest.mark.django_db
def test_people_list_searches_names_and_identifiers(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    client = client_for(users["oversight"])
    body = client.get(reverse("web:person_list"), {"q": "Pérez"}).content.decode()
    assert person_url(people["civil"]) in body
    assert person_url(people["us_1"]) not in body
    ref = people["gt"].identifiers.get().value
    body = client.get(reverse("web:person_list"), {"q": ref}).content.decode()
    assert person_url(people["gt"]) in body
    assert "1 person" in body


@pytest.mark.django_db
def test_people_list_query_count_is_bounded(
    people: dict[str, Any], users: dict[str, Any], world: dict[str, Any], actor: Any
) -> None:
    """The page's queries do not grow with the people on it: the same count with 5 and with
    11 people (held, released, with identifiers and nationalities of their own), and at most
    12 — session, user, the registry's version (the nationality list and the count are kept
    per version), nationality list, count, the page's ids, its rows, their identifiers, their
    episodes, their open absences, and the footer's two reads of the ledger head."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(users["oversight"])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("web:person_list"))
        assert response.status_code == 200
        return len(captured.captured_queries)

    few = count()
    for i in range(6):
        person = make_person(actor, given_names=f"Extra {i}", first_surname="Ramos",
                             nationality="SV" if i % 2 else "HN")  # fmt: skip
        admit(actor, person, world["tec"], world["us"], cell="M1-02" if i < 3 else "M1-03")
    assert count() == few
    assert few <= 12


@pytest.mark.parametrize(
    ("role", "key", "status"),
    [
        ("staff", "us_1", 200),
        ("staff", "gt", 404),
        ("staff_oth", "us_1", 404),
        ("admin", "us_1", 200),
        ("liaison_us", "us_1", 200),
        ("liaison_us", "gt", 404),
        ("liaison_gt", "gt", 200),
        ("finance_us", "civil", 200),
        ("finance_us", "gt", 404),
        ("oversight", "gt", 200),
        ("auditor", "us_1", 200),
        ("norole", "us_1", 403),
        ("oversight", "never_held", 200),
        ("staff", "never_held", 404),
    ],
)
@pytest.mark.django_db
def test_person_page_per_role(
    people: dict[str, Any], users: dict[str, Any], role: str, key: str, status: int
) -> None:
    response = client_for(users[role]).get(person_url(people[key]))
    assert response.status_code == status


@pytest.mark.django_db
def test_person_page_missing_is_the_same_404(users: dict[str, Any], world: Any) -> None:
    response = client_for(users["oversight"]).get(reverse("web:person_detail", args=[999999]))
    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.django_db
def test_person_page_shows_identity_bases_cell_and_ledger_history(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    person = people["us_1"]
    body = client_for(users["staff"]).get(person_url(person)).content.decode()
    assert "José Alberto" in body
    assert "1990-05-17" in body
    assert "Venezuela" in body
    assert person.identifiers.get().value in body
    assert "Criminal sentence" in body
    assert "2026-01-01" in body  # P2Y from 2024-01-01
    assert f'href="{cell_url("TEC", "M1-01")}"' in body
    # history read from the ledger, with the entry indices
    from habeas.ledger.models import LedgerEntry

    entries = LedgerEntry.objects.filter(subject=f"person:{person.pk}").order_by("index")
    assert [e.action for e in entries] == ["people.created", "custody.admitted"]
    for entry in entries:
        assert f"entry {entry.index}<" in body
    assert "Admitted to TEC under agreement US-SV" in body
    assert "placed in cell TEC/M1-01" in body
    assert "2025-03-16 08:05 CST" in body  # occurred_at, in the facility's local time
    assert "test:officer" in body


@pytest.mark.django_db
def test_person_page_shows_moves_and_release_from_the_ledger(
    people: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    from habeas.custody.services import custody_release
    from habeas.facilities.models import Cell
    from habeas.housing.placements import placement_move

    person = people["us_1"]
    placement_move(
        actor=actor,
        person=person,
        cell=Cell.objects.get(facility__code="TEC", code="M1-02"),
        at=dt.datetime(2025, 4, 1, 10, 0, tzinfo=dt.UTC),
        reason="repairs",
    )
    custody_release(
        actor=actor,
        person=person,
        reason="repatriated",
        at=dt.datetime(2025, 5, 1, 9, 0, tzinfo=dt.UTC),
        destination="VE",
    )
    body = client_for(users["staff"]).get(person_url(person)).content.decode()
    assert "Moved from cell TEC/M1-01 to cell TEC/M1-02; reason: repairs" in body
    assert "Released: Repatriated; destination VE" in body
    assert "Released" in body


@pytest.mark.parametrize("role", ["liaison_us", "finance_us"])
@pytest.mark.django_db
def test_person_page_hides_cells_from_liaison_and_finance(
    people: dict[str, Any], users: dict[str, Any], role: str
) -> None:
    body = client_for(users[role]).get(person_url(people["us_1"])).content.decode()
    assert "/cells/" not in body
    assert "M1-01" not in body
    assert "Admitted to TEC" in body


@pytest.mark.django_db
def test_person_page_query_count_is_bounded(
    people: dict[str, Any], users: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = client_for(users["staff"])
    # 12 reads + 1 insert into the access log (Mandela Rule 9: every view recorded), and the
    # lifecycle panels: the alarms evaluated now (6), the current calculation, the orders and
    # their timeline (3), the notices (1), and the hub's open keep-aparts and notifications
    # (2) — a bound that does not grow with the history.
    # constant: the sections of the file (incidents, complaints, contacts, notifications)
    with django_assert_max_num_queries(45):
        response = client.get(person_url(people["us_1"]))
    assert response.status_code == 200


# --- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "facility", "cell", "status"),
    [
        ("staff", "TEC", "M1-01", 200),
        ("admin", "TEC", "M1-01", 200),
        ("staff", "OTH", "A-01", 404),
        ("staff_oth", "TEC", "M1-01", 404),
        ("staff_oth", "OTH", "A-01", 200),
        ("liaison_us", "TEC", "M1-01", 404),
        ("finance_us", "TEC", "M1-01", 404),
        ("oversight", "OTH", "A-01", 200),
        ("auditor", "TEC", "M1-01", 200),
        ("norole", "TEC", "M1-01", 403),
        ("oversight", "TEC", "NOPE", 404),
        ("oversight", "NOPE", "M1-01", 404),
    ],
)
@pytest.mark.django_db
def test_cell_page_per_role(
    people: dict[str, Any],
    users: dict[str, Any],
    role: str,
    facility: str,
    cell: str,
    status: int,
) -> None:
    response = client_for(users[role]).get(cell_url(facility, cell))
    assert response.status_code == status


@pytest.mark.parametrize("role", ["anonymous", "staff", "liaison_us"])
@pytest.mark.django_db
def test_old_cell_url_redirects_permanently_to_the_housing_cell_page(
    people: dict[str, Any], users: dict[str, Any], role: str
) -> None:
    """One cell page: the web shell's old URL is a 301 to the housing one, for everybody
    (the housing page then decides: login, the page, or 404 outside the scope)."""
    client = Client() if role == "anonymous" else client_for(users[role])
    old = reverse("web:cell_detail", args=["TEC", "M1-01"])
    assert old == "/facilities/TEC/cells/M1-01/"
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == "/housing/TEC/cells/M1-01/" == cell_url("TEC", "M1-01")
    final = client.get(old, follow=True)
    expected = {"anonymous": 200, "staff": 200, "liaison_us": 404}[role]
    assert final.status_code == expected
    if role == "anonymous":
        assert final.redirect_chain[-1][0].startswith(reverse("web:login") + "?next=")
    if role == "staff":
        assert "Cell M1-01" in final.content.decode()


@pytest.mark.django_db
def test_cell_page_shows_dimensions_capacities_and_occupants(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    body = client_for(users["staff"]).get(cell_url("TEC", "M1-01")).content.decode()
    assert "Cell M1-01" in body
    assert "20 m²" in body  # floor
    assert "18 m²" in body  # usable
    assert "ICRC (3.4 m² shared, 5.4 m² single)" in body
    assert "9.00&nbsp;m²" in body  # 18 m² / 2 people
    assert person_url(people["us_1"]) in body
    assert person_url(people["hostile"]) in body
    assert "Criminal sentence" in body
    assert "2025-03-16 08:05 CST" in body  # admission in the facility's local time


@pytest.mark.django_db
def test_cell_page_lists_everyone_held_in_the_facility(
    world: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    """Facility staff see every occupant of their cells, whatever the agreement."""
    us_person = make_person(actor, given_names="Carlos")
    admit(actor, us_person, world["tec"], world["us"], cell="M1-03")
    gt_person = make_person(actor, given_names="Mateo", nationality="GT", authority="GT")
    admit(actor, gt_person, world["tec"], world["gt"], cell="M1-03")
    body = client_for(users["staff"]).get(cell_url("TEC", "M1-03")).content.decode()
    assert person_url(us_person) in body
    assert person_url(gt_person) in body
    assert "outside your scope" not in body


CROWDED_SETUP = """
[[jurisdiction]]
code = "SV"
name = "El Salvador"

[[facility]]
code = "CRW"
name = "Crowded annex"
jurisdiction = "SV"
timezone = "America/El_Salvador"
space_standard = "cpt"

[[facility.module]]
code = "C"
population = "adult_male"
regime = "civil"
cells = [{code = "C-01", floor_area_m2 = 10.0, max_capacity = 6, working_capacity = 5}]
"""


@pytest.mark.django_db
def test_cell_page_flags_space_below_mursic(
    world: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    """10 m² for 4 people is 2.5 m² each: below the ECtHR's 3 m² (Muršić §138)."""
    import tomllib

    from habeas.facilities.models import Facility
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup

    setup_apply(actor=actor, document=parse_setup(tomllib.loads(CROWDED_SETUP), name="c.toml"))
    crowded = Facility.objects.get(code="CRW")
    client = client_for(users["oversight"])
    admit(actor, make_person(actor), crowded, None, bases=[removal_order()], cell="C-01")
    body = client.get(cell_url("CRW", "C-01")).content.decode()
    assert "10.00&nbsp;m²" in body
    assert "presumes a violation" not in body
    for n in range(3):
        person = make_person(actor, given_names=f"P{n}")
        admit(actor, person, crowded, None, bases=[removal_order()], cell="C-01")
    body = client.get(cell_url("CRW", "C-01")).content.decode()
    assert "2.50&nbsp;m²" in body
    assert "presumes a violation" in body
    assert "Muršić" in body


# --- escaping ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "detail", "cell"])
@pytest.mark.django_db
def test_names_are_rendered_escaped(
    people: dict[str, Any], users: dict[str, Any], page: str
) -> None:
    url = {
        "list": reverse("web:person_list"),
        "detail": person_url(people["hostile"]),
        "cell": cell_url("TEC", "M1-01"),
    }[page]
    body = client_for(users["staff"]).get(url).content.decode()
    assert SCRIPT_NAME not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "O&#x27;Brien &amp; Sons" in body


# --- Spanish -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_in_spanish_from_the_cookie(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    body = client_for(users["staff"], "es").get(reverse("web:dashboard")).content.decode()
    assert '<html lang="es">' in body
    assert "Panel" in body
    assert "Capacidad certificada" in body
    assert "Personas" in body
    assert "10,7" in body  # decimal comma


@pytest.mark.django_db
def test_pages_in_spanish_from_accept_language(
    people: dict[str, Any], users: dict[str, Any]
) -> None:
    client = client_for(users["staff"])
    body = client.get(person_url(people["us_1"]), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Historial según la bitácora" in body
    assert "Condena penal" in body
    assert "Venezuela" in body
    body = client.get(cell_url("TEC", "M1-01"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Celda M1-01" in body
    login = Client().get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Iniciar sesión" in login


@pytest.mark.django_db
def test_language_switch_sets_spanish(people: dict[str, Any], users: dict[str, Any]) -> None:
    client = client_for(users["staff"])
    response = client.post(
        reverse("set_language"), {"language": "es", "next": reverse("web:person_list")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:person_list")
    body = client.get(reverse("web:person_list")).content.decode()
    assert '<html lang="es">' in body
    assert "Nombre o identificador" in body


@pytest.mark.django_db
def test_person_page_keeps_the_precision_of_a_partial_birth_date(
    world: dict[str, Any], users: dict[str, Any], actor: Any
) -> None:
    from habeas.people.services import Identifier, PersonSpec, person_create

    person = person_create(
        actor=actor,
        spec=PersonSpec(
            given_names="Σωκράτης",
            first_surname="Ñúñez",
            sex="X",
            nationalities=["VE", "CO"],
            aliases=["El Gato"],
            date_of_birth=dt.date(1988, 1, 1),
            dob_precision="year",
            identifiers=[Identifier(authority="US", value="A-PARTIAL-1")],
        ),
    )
    admit(actor, person, world["tec"], world["us"], bases=[removal_order()], cell="M2-02")
    body = client_for(users["staff"]).get(person_url(person)).content.decode()
    assert "Σωκράτης Ñúñez" in body
    assert '1988 <span class="muted">(year only)</span>' in body
    assert "1988-01-01" not in body
    assert "El Gato" in body
    assert "Venezuela" in body
    assert "Colombia" in body
    assert "X (unspecified)" in body
    assert "Removal order" in body


@pytest.mark.django_db
def test_cell_out_of_use_shows_its_reason_and_grey_square(
    world: dict[str, Any], users: dict[str, Any]
) -> None:
    from habeas.core.actor import Actor
    from habeas.facilities.models import Cell
    from habeas.facilities.services import cell_deactivate

    director = Actor(name="test:director", role="facility_admin")
    cell = Cell.objects.get(facility__code="TEC", code="M1-03")
    cell_deactivate(actor=director, cell=cell, reason="maintenance", note="Roof leak")
    client = client_for(users["staff"])
    body = client.get(cell_url("TEC", "M1-03")).content.decode()
    assert "Maintenance" in body
    assert "Roof leak" in body
    dashboard = client.get(reverse("web:dashboard")).content.decode()
    assert re.search(r'class="cell-square band-inactive" href="[^"]+M1-03/"', dashboard)


@pytest.mark.parametrize(
    ("user", "shown"),
    [("staff", True), ("liaison_us", True), ("oversight", False), ("finance_us", False)],
)
def test_manifest_upload_form_only_for_roles_that_may_import(
    world: dict[str, Any], users: dict[str, Any], user: str, shown: bool
) -> None:
    """Read-only roles (oversight, finance) see the manifests but not an upload form that
    would only answer 403."""
    client = Client()
    client.force_login(users[user])
    html = client.get("/transfers/").content.decode()
    assert "Transfer manifests" in html
    assert ('enctype="multipart/form-data"' in html) is shown
