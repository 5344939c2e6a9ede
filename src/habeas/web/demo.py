"""The demo scenario (INTERFACES.md, "Demo scenario"): the publicly reported 2025
arrangement and the facility it used (STANDARDS.md), with synthetic people.

``small``: a few hundred people — a resident population held on the receiving state's own
sentences, and transferees under the US agreement (removal orders in the civil modules,
sentences in the criminal ones), a few of them already released. ``full``: the facility filled
to its declared 40,000, so the dashboard shows what that means against certified capacity.
Every write goes through the services and onto the ledger, as in production.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from habeas.accounts.services import user_create
from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.custody.services import AdmissionSpec, LegalBasisSpec, custody_release
from habeas.facilities.models import Facility
from habeas.facilities.setup import setup_apply
from habeas.facilities.setup_schema import load_setup
from habeas.housing.placements import admit_and_place_many
from habeas.people.services import Identifier, PersonSpec, person_create_many
from habeas.people.synthetic import GIVEN, SURNAMES

SETUP = Path(__file__).resolve().parent / "data" / "demo_setup.toml"
SEED = 2025

OFFENCES = [
    "homicide",
    "extortion",
    "illicit association",
    "aggravated robbery",
    "drug trafficking",
    "kidnapping",
    "illegal possession of firearms",
]

USERS: list[dict[str, Any]] = [
    {
        "username": "staff",
        "role": "facility_staff",
        "facility_codes": ["TEC"],
        "label": "intake and duty officer, TEC",
    },
    {
        "username": "director",
        "role": "facility_admin",
        "facility_codes": ["TEC"],
        "label": "facility director, TEC",
    },
    {
        "username": "liaison",
        "role": "liaison",
        "jurisdiction_code": "US",
        "label": "sending-state liaison, United States",
    },
    {
        "username": "finance",
        "role": "finance",
        "jurisdiction_code": "US",
        "label": "finance, United States",
    },
    {"username": "monitor", "role": "oversight", "label": "oversight monitor"},
    {"username": "auditor", "role": "auditor", "label": "ledger auditor"},
    {
        "username": "inspector",
        "role": "inspector",
        "facility_codes": ["TEC"],
        "label": "inspector of the national preventive mechanism, TEC",
    },
    {
        "username": "admin",
        "role": "",
        "is_staff": True,
        "is_superuser": True,
        "label": "system administrator (Django admin)",
    },
]


def demo_password(username: str) -> str:
    """The demo account's password: easy to type, and it passes the password validators
    (settings.AUTH_PASSWORD_VALIDATORS: 12 characters or more, not like the username)."""
    return f"{username}-habeas-demo"


@dataclass(frozen=True)
class Scale:
    domestic: int
    transferees_civil: int
    transferees_criminal: int
    released: int
    domestic_civil: int = 0  # the receiving state's own immigration detainees (civil regime)


SCALES = {
    "small": Scale(domestic=330, transferees_civil=45, transferees_criminal=25, released=12),
    # 8 × 32 cells × 157 working places = 40,192; the declared capacity is 40,000. The US
    # agreement's quota (300) holds: the crowd is the receiving state's own population, held
    # on its sentences (criminal modules M1-M6) and removal orders (civil modules M7-M8).
    "full": Scale(
        domestic=29_950,
        domestic_civil=9_950,
        transferees_civil=45,
        transferees_criminal=25,
        released=40,
    ),
}


def _people(
    rng: random.Random, n: int, *, nationality: str, authority: str, prefix: str, start: int
) -> list[PersonSpec]:
    specs = []
    for i in range(n):
        year = rng.randint(1965, 2004)
        precision = rng.choices(["day", "month", "year"], weights=[90, 6, 4])[0]
        dob = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        if precision == "month":
            dob = dob.replace(day=1)
        elif precision == "year":
            dob = dt.date(year, 1, 1)
        specs.append(
            PersonSpec(
                given_names=rng.choice(GIVEN),
                first_surname=rng.choice(SURNAMES),
                second_surname=rng.choice(SURNAMES) if rng.random() < 0.9 else "",
                sex="M",
                nationalities=[nationality],
                date_of_birth=dob,
                dob_precision=precision,
                language="es",
                identifiers=[Identifier(authority=authority, value=f"{prefix}{start + i:07d}")],
            )
        )
    return specs


#: Sentence lengths of the receiving state's own prisoners: long enough that none of them is
#: due out before the demo's present (the scenario shows a crowded prison, not an unlawful one).
DOMESTIC_SENTENCES = ("P5Y", "P8Y6M", "P10Y", "P15Y", "P25Y", "P30Y", "life")
#: The transferees' sentences include two-year ones: a few of them have served theirs and are
#: still held, which the ``legal_basis`` alert (Mandela Rule 7(b)) shows to staff and liaison.
TRANSFEREE_SENTENCES = ("P2Y", "P5Y", "P8Y6M", "P10Y", "P15Y", "P25Y", "life")


def _sentence(
    rng: random.Random,
    authority: str,
    admitted: dt.date,
    lengths: tuple[str, ...] = TRANSFEREE_SENTENCES,
) -> LegalBasisSpec:
    start = admitted - dt.timedelta(days=rng.randint(0, 400))
    return LegalBasisSpec(
        kind="criminal_sentence",
        authority=authority,
        ref=f"{authority}-CR-{rng.randint(10000, 99999)}",
        offence=rng.choice(OFFENCES),
        conviction_date=start,
        judgment_final=True,
        sentence=rng.choice(lengths),
        sentence_start=start,
        custody_credit_days=rng.choice([0, 0, 30, 120]),
        consent="unknown",
    )


def _removal(
    rng: random.Random, *, authority: str = "US", on: dt.date | None = None
) -> LegalBasisSpec:
    return LegalBasisSpec(
        kind="removal_order",
        authority=authority,
        ref=f"{authority}-RO-{rng.randint(100000, 999999)}",
        status_in_sending_state="other",
        order_date=on or dt.date(2025, 2, rng.randint(1, 28)),
    )


#: Days left of the US agreement's term on the day the demo is loaded: inside the notice
#: period of alarm A4.6 (``HABEAS_AGREEMENT_NOTICE_DAYS``, 30), so the liaison, the dashboard
#: and oversight see the term's end coming.
DEMO_TERM_LEFT_DAYS = 21


def _term_ending_soon(actor: Actor, document: Any) -> None:
    """The 2025 agreement's one-year term (2025-03-15 to 2026-03-14 as reported) extended by
    the parties, pending the sending state's decision, to a date three weeks after the demo's
    day, whenever it is loaded: amended as an operator amends an agreement, the setup file
    applied again (one ``agreements.agreement_amended`` entry on the ledger). The demo's day
    is the prison's (its local date), the day the term alarms count in."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from habeas.core.clock import now

    zone = next(f.timezone for f in document.facility if f.code == "TEC")
    today = timezone.localtime(now(), ZoneInfo(zone)).date()
    ends = today + dt.timedelta(days=DEMO_TERM_LEFT_DAYS)
    agreements = [
        a.model_copy(update={"ends": ends})
        if a.code == "US-SV-2025" and a.ends is not None and a.ends < ends
        else a
        for a in document.agreement
    ]
    setup_apply(actor=actor, document=document.model_copy(update={"agreement": agreements}))


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_demo(
    *, scale: str = "small", advance: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Load the scenario; returns the demo logins. Call on an empty database."""
    rng = random.Random(SEED)
    spec = SCALES[scale]
    actor = Actor.system("demo")
    document = load_setup(SETUP)
    setup_apply(actor=actor, document=document)
    _term_ending_soon(actor, document)
    facility = Facility.objects.get(code="TEC")
    agreement = Agreement.objects.get(code="US-SV-2025")
    step = advance or (lambda n: None)

    def admit(
        specs: list[PersonSpec],
        bases: Callable[[dt.datetime], list[LegalBasisSpec]],
        when: Callable[[], dt.datetime],
        agreement_: Agreement | None,
    ) -> None:
        for batch in _batches(specs, 2000):
            people = person_create_many(actor=actor, specs=batch)
            admissions = []
            for p in people:
                at = when()
                admissions.append(AdmissionSpec(person=p, legal_bases=bases(at), admitted_at=at))
            admit_and_place_many(
                actor=actor, facility=facility, agreement=agreement_, admissions=admissions
            )
            step(len(batch))

    sv_tz = dt.timezone(dt.timedelta(hours=-6))

    def domestic_when() -> dt.datetime:
        day = dt.date(2023, 2, 24) + dt.timedelta(days=rng.randint(0, 740))
        return dt.datetime.combine(
            day, dt.time(rng.randint(6, 20), rng.choice([0, 15, 30, 45])), tzinfo=sv_tz
        )

    flights = [
        dt.datetime(2025, 3, 16, 14, 5, tzinfo=sv_tz),
        dt.datetime(2025, 4, 13, 9, 40, tzinfo=sv_tz),
    ]

    domestic_calls = iter(range(spec.domestic))

    def domestic_bases(at: dt.datetime) -> list[LegalBasisSpec]:
        """Three of the receiving state's prisoners have served an 18-month sentence and are
        still held: the ``legal_basis`` alert (Mandela Rule 7(b)) shows them."""
        if next(domestic_calls, 0) >= spec.domestic - 3:  # the last three (never released)
            return [_sentence(rng, "SV", at.date(), ("P1Y6M",))]
        return [_sentence(rng, "SV", at.date(), DOMESTIC_SENTENCES)]

    admit(
        _people(rng, spec.domestic, nationality="SV", authority="SV", prefix="SV", start=1),
        domestic_bases,
        domestic_when,
        None,
    )
    if spec.domestic_civil:
        migrants = _people(
            rng, spec.domestic_civil, nationality="HN", authority="SV", prefix="DGME", start=1
        )
        others = ["HN", "GT", "NI", "VE", "CO", "CU"]
        migrants = [replace(m, nationalities=[rng.choice(others)]) for m in migrants]
        admit(
            migrants,
            lambda at: [_removal(rng, authority="SV", on=at.date())],
            domestic_when,
            None,
        )
    admit(
        _people(
            rng,
            spec.transferees_civil,
            nationality="VE",
            authority="US",
            prefix="A",
            start=2_200_000,
        ),
        lambda at: [_removal(rng)],
        lambda: rng.choice(flights),
        agreement,
    )
    admit(
        _people(
            rng,
            spec.transferees_criminal,
            nationality="US",
            authority="US",
            prefix="BOP",
            start=4_100_000,
        ),
        lambda at: (
            [_sentence(rng, "US", at.date()), _removal(rng)]
            if rng.random() < 0.2
            else [_sentence(rng, "US", at.date())]
        ),
        lambda: rng.choice(flights),
        agreement,
    )

    from habeas.custody.models import CustodyEpisode

    to_release = list(
        CustodyEpisode.objects.open()
        .filter(agreement__isnull=True)
        .select_related("person")
        .order_by("pk")[: spec.released]
    )
    for episode in to_release:
        custody_release(
            actor=actor,
            person=episode.person,
            reason="court_order",
            at=max(
                episode.admitted_at + dt.timedelta(days=200),
                dt.datetime(2025, 6, 1, 8, 0, tzinfo=sv_tz),
            ),
            destination="SV",
        )
    _absences(actor)
    from habeas.transfers.demo import load_demo_flights

    flight_summary = load_demo_flights(actor=actor)
    from habeas.web.demo_lifecycle import load_lifecycle

    load_lifecycle(actor)

    from habeas.billing.demo import load_demo_billing

    billing = load_demo_billing(actor=actor, agreement=agreement)
    from habeas.conditions.demo_readings import load_demo_readings

    load_demo_readings(actor=actor)
    from habeas.conditions.demo_cases import load_demo_cases

    load_demo_cases(actor)
    from habeas.contact.demo import load_demo_contact

    load_demo_contact(actor=actor)
    logins = []
    for u in USERS:
        fields = {k: v for k, v in u.items() if k not in {"label"}}
        user_create(actor=actor, password=demo_password(u["username"]), **fields)
        logins.append((u["username"], demo_password(u["username"]), u["label"]))
    from habeas.inspections.demo import load_demo_inspections

    load_demo_inspections(actor=actor)
    return {"logins": logins, "flights": flight_summary, "billing": billing}


#: People out of the facility when the demo is loaded (temporary absences, so the roll shows
#: "out": court, hospital, other): kind, destination, authority, escort, hours since they left,
#: hours until expected back (None: not given), and for history, hours after leaving that
#: they came back (None: still out).
DEMO_ABSENCES: list[tuple[str, str, str, str, float, float | None, float | None]] = [
    ("court", "Tribunal Primero de Sentencia, San Salvador", "Citación 1127-2025",
     "4 custodians, PNC van", 3.0, 5.0, None),
    ("court", "Juzgado Especializado de Instrucción A, San Salvador", "Citación 0893-2025",
     "4 custodians, PNC van", 3.0, 5.0, None),
    ("court", "Juzgado Especializado de Sentencia B, San Miguel", "Citación 0452-2025",
     "6 custodians, 2 vehicles", 26.0, 8.0, None),
    ("hospital", "Hospital Nacional Rosales, San Salvador", "Referral by the prison doctor",
     "2 custodians, bedside watch", 50.0, None, None),
    ("hospital", "Hospital Nacional Zacamil, Mejicanos", "Emergency referral (chest pain)",
     "2 custodians", 7.5, None, None),
    ("medical_appointment", "Unidad Comunitaria de Salud, Tecoluca", "Dental referral 57/2025",
     "2 custodians", 1.5, 2.5, None),
    ("funeral_or_family_visit", "Cementerio Municipal, Santa Ana (his mother's funeral)",
     "Director's authorisation (Mandela Rule 70)", "2 custodians", 4.0, 6.0, None),
    ("court", "Tribunal Segundo de Sentencia, San Salvador", "Citación 0788-2025",
     "4 custodians, PNC van", 30.0, 8.0, 7.0),
    ("hospital", "Hospital Nacional Rosales, San Salvador", "Referral by the prison doctor",
     "2 custodians", 80.0, None, 20.0),
]  # fmt: skip


def _absences(actor: Actor) -> None:
    """A few people at court, in hospital, at an appointment and at a funeral (Mandela Rule
    70) now, and two who came back, so the roll's "out" columns and the person pages show
    them. Times are relative to the moment the demo is loaded."""
    from habeas.core.clock import now
    from habeas.custody.absences import absence_end, absence_start
    from habeas.custody.models import CustodyEpisode

    held = list(
        CustodyEpisode.objects.open()
        .select_related("person")
        .order_by("pk")[: len(DEMO_ABSENCES) * 37 : 37]  # spread over the cells
    )
    at = now().replace(second=0, microsecond=0)
    hours = dt.timedelta(hours=1)
    for episode, row in zip(held, DEMO_ABSENCES, strict=False):
        kind, destination, authority, escort, since, due, back = row
        started = at - since * hours
        absence = absence_start(
            actor=actor,
            person=episode.person,
            kind=kind,
            destination=destination,
            authority=authority,
            escort=escort,
            started_at=started,
            expected_return_at=started + due * hours if due is not None else None,
        )
        if back is not None:
            absence_end(actor=actor, absence=absence, returned_at=started + back * hours)


def total_people(scale: str) -> int:
    s = SCALES[scale]
    return s.domestic + s.domestic_civil + s.transferees_civil + s.transferees_criminal
