"""The two March 2025 flights of the demo (INTERFACES.md "Demo scenario"; STANDARDS.md): 238
and 23 people as manifests under agreement US-SV-2025, with realistic, messy synthetic data —
accents dropped, surnames swapped, partial dates of birth, people with no conviction (the
receiving state said it takes "only convicted criminals"), one with a court order protecting
them from removal, one citizen of the sending state on a removal order, duplicates of people
already held. Imported, decided, the eligible accepted and admitted, all through the services.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import replace
from typing import Any

from habeas.agreements.models import Agreement
from habeas.core.actor import Actor
from habeas.custody.models import CustodyEpisode
from habeas.people.matching import PersonRecord
from habeas.people.synthetic import messy_copy, person, strip_accents
from habeas.transfers.manifest import COLUMNS
from habeas.transfers.services import manifest_accept, manifest_admit, manifest_import

SEED = 20250316
SV_TZ = dt.timezone(dt.timedelta(hours=-6))
DECIDED_ON = dt.date(2025, 3, 15)
ARRIVALS = {
    "US-SV-2025-F1": dt.datetime(2025, 3, 16, 14, 5, tzinfo=SV_TZ),
    "US-SV-2025-F2": dt.datetime(2025, 3, 16, 15, 40, tzinfo=SV_TZ),
}
OFFENCES = [
    "8 U.S.C. 1326 illegal reentry",
    "21 U.S.C. 841 distribution of a controlled substance",
    "18 U.S.C. 1962 racketeering (MS-13)",
    "18 U.S.C. 922(g) unlawful firearm possession",
    "aggravated assault",
    "robbery",
]


def _fmt_dob(p: PersonRecord) -> str:
    d = p.date_of_birth
    assert d is not None
    if p.dob_precision == "year":
        return f"{d.year:04d}"
    if p.dob_precision == "month":
        return f"{d.year:04d}-{d.month:02d}"
    return d.isoformat()


def _row(p: PersonRecord, ref: str, **fields: str) -> dict[str, str]:
    return {
        "sending_ref": ref,
        "given_names": p.given_names,
        "first_surname": p.first_surname,
        "second_surname": p.second_surname,
        "aliases": ";".join(p.aliases),
        "date_of_birth": _fmt_dob(p),
        "sex": p.sex or "M",
        "nationalities": ";".join(p.nationalities),
        "status_in_sending_state": "other",
        "language": "es",
        **fields,
    }


def _removal(rng: random.Random) -> dict[str, str]:
    return {
        "legal_basis": "removal_order",
        "removal_order_ref": f"EOIR-{rng.randint(100000, 999999)}",
        "removal_order_date": (
            dt.date(2024, 6, 1) + dt.timedelta(days=rng.randint(0, 270))
        ).isoformat(),
    }


def _sentence(rng: random.Random, *, final: str = "yes", served: bool = False) -> dict[str, str]:
    start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
    length = rng.choice(["P3Y", "P5Y", "P8Y", "P10Y", "P15Y", "life"])
    if served:
        start, length = dt.date(2019, 5, 2), "P2Y"
    return {
        "legal_basis": "criminal_sentence;removal_order",
        "removal_order_ref": f"EOIR-{rng.randint(100000, 999999)}",
        "removal_order_date": "2025-02-20",
        "offence": rng.choice(OFFENCES),
        "conviction_date": start.isoformat(),
        "judgment_final": final,
        "sentence": length,
        "sentence_start": start.isoformat(),
        "custody_credit_days": str(rng.choice([0, 0, 45, 120])),
        "consent": "unknown",
    }


def _contact(rng: random.Random) -> dict[str, str]:
    if rng.random() < 0.3:
        return {}
    contact = {
        "contact_name": " ".join(
            (rng.choice(["María", "Carmen", "Rosa", "Yelitza"]), rng.choice(["Pérez", "Rojas"]))
        ),
        "contact_relation": rng.choice(["mother", "wife", "sister"]),
        "contact_phone": f"+58 412 {rng.randint(1000000, 9999999)}",
    }
    digits = contact["contact_phone"][-7:]
    if int(digits[-1]) % 2 == 0:  # some relatives gave an e-mail address (family notices)
        contact["contact_email"] = f"familia.{digits}@example.org"
    return contact


def _mess(rng: random.Random, p: PersonRecord) -> PersonRecord:
    """What happens to names between agencies: accents lost, order changed, dates cut."""
    roll = rng.random()
    if roll < 0.35:
        p = replace(
            p,
            given_names=strip_accents(p.given_names).upper(),
            first_surname=strip_accents(p.first_surname).upper(),
            second_surname=strip_accents(p.second_surname).upper(),
            _variants=None,
        )
    elif roll < 0.5:
        p = replace(
            p, first_surname=p.second_surname, second_surname=p.first_surname, _variants=None
        )
    if rng.random() < 0.08:
        p = replace(p, dob_precision=rng.choice(["year", "month"]), _variants=None)
    return p


def _held_copies(rng: random.Random, nationality: str, n: int, prefix: str) -> list[dict[str, str]]:
    """Duplicates of people already held, as another agency wrote them."""
    held = [
        e
        for e in CustodyEpisode.objects.open().select_related("person").order_by("pk")[:2000]
        if nationality in (e.person.nationalities or [])
    ][:n]
    rows = []
    for i, e in enumerate(held):
        p = e.person
        rec = PersonRecord(
            ref=str(p.pk),
            given_names=p.given_names,
            first_surname=p.first_surname,
            second_surname=p.second_surname,
            date_of_birth=p.date_of_birth,
            dob_precision=p.dob_precision,
            sex=p.sex,
            nationalities=list(p.nationalities),
        )
        copy = messy_copy(rng, rec, f"{prefix}{i}", mess=2)
        rows.append(_row(copy, f"{prefix}{i:04d}", **_sentence(rng), **_contact(rng)))
    return rows


def _flight_1(rng: random.Random) -> list[dict[str, str]]:
    """238 Venezuelans: most on a removal order only, some convicted, the odd ones out."""
    rows: list[dict[str, str]] = []
    n = 0

    def ref() -> str:
        nonlocal n
        n += 1
        return f"A{240_100_000 + n * 37}"

    dups = _held_copies(rng, "VE", 3, "A2409")
    for _ in range(150):
        p = _mess(rng, person(rng, "", nationalities=["VE"]))
        rows.append(_row(p, ref(), **_removal(rng), **_contact(rng)))
    for _ in range(66):
        p = _mess(rng, person(rng, "", nationalities=["VE"]))
        rows.append(_row(p, ref(), **_sentence(rng), **_contact(rng)))
    for _ in range(5):
        p = _mess(rng, person(rng, "", nationalities=["VE"]))
        rows.append(_row(p, ref(), **_sentence(rng, final="no"), **_contact(rng)))
    for _ in range(2):
        p = _mess(rng, person(rng, "", nationalities=["VE"]))
        rows.append(_row(p, ref(), **_sentence(rng, served=True)))
    # a court order protects this one from removal to the receiving state
    p = person(rng, "", nationalities=["VE"])
    rows.append(_row(p, ref(), **_removal(rng), removal_protection="yes"))
    # a US citizen on a removal order: void
    p = replace(person(rng, "", nationalities=["US"]), _variants=None)
    rows.append(_row(p, ref(), **_removal(rng), status_in_sending_state="citizen", language="en"))
    # a 17-year-old
    p = replace(
        person(rng, "", nationalities=["VE"]), date_of_birth=dt.date(2007, 9, 30), _variants=None
    )
    rows.append(_row(p, ref(), **_removal(rng)))
    # bad data: 30 February, an unknown country
    p = person(rng, "", nationalities=["VE"])
    rows.append(_row(p, ref(), **_sentence(rng), date_of_birth="1994-02-30"))
    p = person(rng, "", nationalities=["VE"])
    rows.append(_row(p, ref(), **_removal(rng), nationalities="VZ"))
    # a permanent resident serving a US sentence without consent
    p = person(rng, "", nationalities=["VE"])
    rows.append(_row(p, ref(), **_sentence(rng), status_in_sending_state="permanent_resident"))
    rows += dups
    while len(rows) < 238:
        p = _mess(rng, person(rng, "", nationalities=["VE"]))
        rows.append(_row(p, ref(), **_removal(rng), **_contact(rng)))
    rng.shuffle(rows)
    return rows[:238]


def _flight_2(rng: random.Random) -> list[dict[str, str]]:
    """23 Salvadorans convicted in the sending state (reported as gang members)."""
    rows = _held_copies(rng, "SV", 1, "BOP9")
    i = 0
    while len(rows) < 23:
        i += 1
        p = _mess(rng, person(rng, "", nationalities=["SV"]))
        fields = _sentence(rng, final="no" if i in {4, 11} else "yes")
        fields["offence"] = "18 U.S.C. 1962 racketeering (MS-13)"
        rows.append(_row(p, f"BOP{51_200_000 + i * 13}", **fields, **_contact(rng)))
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    """The demo flight as the sending state's file: an input read back by the importer, not
    an export (its cells are the data as typed, phone numbers starting with + included)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: r.get(c, "") for c in COLUMNS})
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def load_demo_flights(*, actor: Actor | None = None) -> dict[str, Any]:
    """Import, decide, accept the eligible and admit the two flights. Call after the demo
    setup and population are loaded (web/demo.py); returns the counts per manifest."""
    actor = actor or Actor.system("demo")
    rng = random.Random(SEED)
    agreement = Agreement.objects.get(code="US-SV-2025")
    summary: dict[str, Any] = {}
    for ref, rows in (("US-SV-2025-F1", _flight_1(rng)), ("US-SV-2025-F2", _flight_2(rng))):
        result = manifest_import(
            actor=actor,
            data=_csv(rows),
            agreement=agreement,
            ref=ref,
            filename=f"{ref}.csv",
            decided_on=DECIDED_ON,
        )
        manifest = result.manifest
        assert manifest is not None
        admitted = 0
        if not result.recognised and manifest.eligible:
            manifest_accept(
                actor=actor,
                manifest=manifest,
                all_eligible=True,
                at=ARRIVALS[ref] - dt.timedelta(hours=20),
            )
            admitted = len(manifest_admit(actor=actor, manifest=manifest, arrived_at=ARRIVALS[ref]))
        summary[ref] = {**result.summary["counts"], "admitted": admitted, "rows": len(rows)}
    return summary
