"""Each rule on both sides of its boundary (ISSUE 3 acceptance)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.custody.sentences import add_months
from tests.conftest import admit, direct_write, make_person
from tests.transfers.helpers import ON, removal_row, row, to_csv

DAY = dt.timedelta(days=1)


def outcome(result: Any, rule: str, index: int = 0) -> str:
    rules = {r["rule"]: r for r in result.report["entries"][index]["rules"]}
    return str(rules[rule]["outcome"])


def decision(result: Any, index: int = 0) -> str:
    return str(result.report["entries"][index]["decision"])


@pytest.fixture
def treaty(world: Any) -> Any:
    """GT-SV is a treaty_transfer agreement; the person is a national of SV (receiving)."""
    return world["gt"]


def tt_row(**kw: Any) -> dict[str, str]:
    return row(**{"nationalities": "SV", "consent": "yes", **kw})


@pytest.mark.parametrize(
    ("delta", "expected"), [(-DAY, "fail"), (dt.timedelta(0), "pass"), (DAY, "pass")]
)
def test_t4_six_months_boundary(
    importer: Any, treaty: Any, delta: dt.timedelta, expected: str
) -> None:
    on = dt.date.fromisoformat(ON)
    end = add_months(on, 6) + delta
    start = add_months(end, -12)  # a P1Y sentence ending on `end`
    result = importer(to_csv([tt_row(sentence="P1Y", sentence_start=start.isoformat())]), treaty)
    assert outcome(result, "T4") == expected


def test_t4_life_passes_and_params_tighten(importer: Any, world: Any, actor: Any) -> None:
    from habeas.agreements.models import Agreement

    result = importer(to_csv([tt_row(sentence="life")]), world["gt"])
    assert outcome(result, "T4") == "pass"
    direct_write(  # test set-up written directly, on purpose
        lambda: Agreement.objects.filter(pk=world["gt"].pk).update(
            policy_options={"rule_params": {"T4": {"min_months": 60}}}
        )
    )
    world["gt"].refresh_from_db()
    result = importer(to_csv([tt_row(sentence="P5Y", sentence_start="2024-01-10")]), world["gt"])
    assert outcome(result, "T4") == "fail"


@pytest.mark.parametrize(
    ("consent", "expected"),
    [("yes", "pass"), ("no", "fail"), ("unknown", "review"), ("", "review")],
)
def test_t5_consent_values(importer: Any, treaty: Any, consent: str, expected: str) -> None:
    result = importer(to_csv([row(nationalities="SV", consent=consent)]), treaty)
    assert outcome(result, "T5") == expected


def test_t1_t2_t3_t6(importer: Any, treaty: Any) -> None:
    result = importer(
        to_csv([tt_row(nationalities="VE", judgment_final="no")]),
        treaty,
        decided_on=dt.date(2024, 12, 31),
    )
    assert outcome(result, "T1") == "fail"  # starts 2025-01-01
    assert outcome(result, "T2") == "fail"
    assert outcome(result, "T3") == "fail"
    assert outcome(result, "T6") == "review"
    assert decision(result) == "ineligible"


def test_t6_listed_offence_passes(importer: Any, world: Any) -> None:
    from habeas.agreements.models import Agreement

    direct_write(  # test set-up written directly, on purpose
        lambda: Agreement.objects.filter(pk=world["gt"].pk).update(
            policy_options={"dual_criminality_offences": ["robbery"]}
        )
    )
    world["gt"].refresh_from_db()
    result = importer(to_csv([tt_row(offence="Armed robbery")]), world["gt"])
    assert outcome(result, "T6") == "pass"
    assert decision(result) == "eligible"


def test_quota_fail_and_review(importer: Any, world: Any) -> None:
    from habeas.agreements.models import Agreement

    direct_write(  # test set-up written directly, on purpose
        lambda: Agreement.objects.filter(pk=world["us"].pk).update(max_persons=1)
    )
    world["us"].refresh_from_db()
    result = importer(
        to_csv([row(), row(sending_ref="A2", first_surname="Pérez", given_names="Luis")])
    )
    assert outcome(result, "O4", 0) == "pass"
    assert outcome(result, "O4", 1) == "review"
    direct_write(  # test set-up written directly, on purpose
        lambda: Agreement.objects.filter(pk=world["us"].pk).update(max_persons=0)
    )
    world["us"].refresh_from_db()
    result = importer(to_csv([row(sending_ref="B1")]))
    assert outcome(result, "O4") == "fail"


@pytest.mark.parametrize(("days", "expected"), [(-1, "fail"), (0, "pass"), (1, "pass")])
def test_18th_birthday(importer: Any, days: int, expected: str) -> None:
    """18th birthday tomorrow (-1): a child on arrival; today (0) or yesterday (1): adult."""
    on = dt.date.fromisoformat(ON)
    dob = on.replace(year=on.year - 18) - dt.timedelta(days=days)
    result = importer(to_csv([row(date_of_birth=dob.isoformat())]))
    assert outcome(result, "U5") == expected


def test_partial_date_of_birth_counts_the_latest_birthday(importer: Any) -> None:
    on = dt.date.fromisoformat(ON)
    result = importer(to_csv([row(date_of_birth=str(on.year - 18))]))  # maybe still 17
    assert outcome(result, "U5") == "fail"
    result = importer(to_csv([row(sending_ref="A9", date_of_birth=str(on.year - 19))]))
    assert outcome(result, "U5") == "pass"


@pytest.mark.parametrize(("credit", "expected"), [(0, "pass"), (1, "fail")])
def test_sentence_served_boundary(importer: Any, credit: int, expected: str) -> None:
    on = dt.date.fromisoformat(ON)
    start = add_months(on, -24) + DAY  # a P2Y sentence ending tomorrow
    result = importer(
        to_csv([row(sentence="P2Y", sentence_start=start.isoformat(), custody_credit_days=credit)])
    )
    assert outcome(result, "U4") == expected


def test_sentence_served_but_removal_order_remains(importer: Any) -> None:
    r = row(
        legal_basis="criminal_sentence;removal_order",
        sentence="P1Y",
        sentence_start="2020-01-01",
        removal_order_ref="RO-9",
        removal_order_date="2025-01-01",
    )
    result = importer(to_csv([r]))
    assert outcome(result, "U4") == "pass"


def test_citizen_removal_order_is_void(importer: Any) -> None:
    result = importer(to_csv([removal_row(status_in_sending_state="citizen")]))
    rules = {r["rule"]: r["outcome"] for r in result.report["entries"][0]["rules"]}
    assert rules["valid:legal_basis"] == "fail"
    assert rules["U2"] == "fail"
    assert decision(result) == "ineligible"


@pytest.mark.parametrize(("value", "expected"), [("yes", "fail"), ("no", "pass"), ("", "pass")])
def test_removal_protection(importer: Any, value: str, expected: str) -> None:
    result = importer(to_csv([removal_row(removal_protection=value)]))
    assert outcome(result, "U3") == expected


def test_no_module_for_women(importer: Any) -> None:
    """TEC has a civil women's module only; an agreement facility set without one fails U6."""
    result = importer(to_csv([row(sex="F")]))
    assert outcome(result, "U6") == "pass"
    from habeas.agreements.models import Agreement

    gt = Agreement.objects.get(code="GT-SV")
    result = importer(to_csv([row(sex="F", nationalities="SV")]), gt)
    assert outcome(result, "U6") == "pass"


def test_require_conviction(importer: Any, world: Any) -> None:
    from habeas.agreements.models import Agreement

    direct_write(  # test set-up written directly, on purpose
        lambda: Agreement.objects.filter(pk=world["us"].pk).update(
            policy_options={"require_conviction": True}
        )
    )
    world["us"].refresh_from_db()
    result = importer(
        to_csv(
            [
                removal_row(),
                row(
                    sending_ref="A2", judgment_final="no", given_names="Luis", first_surname="Pérez"
                ),
            ]
        )
    )
    assert outcome(result, "O2", 0) == "fail"
    assert outcome(result, "O2", 1) == "review"


def test_citizen_on_sentence_without_consent_is_review(importer: Any) -> None:
    result = importer(
        to_csv([row(status_in_sending_state="citizen", nationalities="US", consent="unknown")])
    )
    assert outcome(result, "O3") == "review"
    assert "sending state's law" in result.report["entries"][0]["rules"][-2]["message"] or any(
        "sending state's law" in r["message"] for r in result.report["entries"][0]["rules"]
    )
    result = importer(
        to_csv(
            [
                row(
                    sending_ref="A7",
                    status_in_sending_state="citizen",
                    nationalities="US",
                    consent="yes",
                )
            ]
        )
    )
    assert outcome(result, "O3") == "pass"


def test_open_custody_and_identity_bands(importer: Any, actor: Any, world: Any) -> None:
    held = make_person(
        actor, given_names="José Alberto", first_surname="Hernández", second_surname="Ramírez"
    )
    admit(actor, held, world["tec"], None)
    result = importer(
        to_csv(
            [row(given_names="JOSE ALBERTO", first_surname="Ramirez", second_surname="Hernandez")]
        )
    )
    entry = result.report["entries"][0]
    assert entry["matched_existing"] is True
    assert entry["person"] == str(held.pk)
    assert outcome(result, "U7") == "review"
    assert decision(result) == "needs_review"
    # a weaker match: same surnames, other given name initial, year only
    result = importer(
        to_csv([row(sending_ref="Z1", given_names="J", second_surname="", date_of_birth="1990")])
    )
    assert outcome(result, "U8") in {"review", "pass"}


def test_every_decision_stores_every_rule_and_date(importer: Any) -> None:
    from habeas.transfers.models import ManifestEntry, RuleOutcome

    result = importer(to_csv([row()]))
    entry = ManifestEntry.objects.get(manifest__ref=result.manifest.ref)
    assert entry.decided_on == dt.date.fromisoformat(ON)
    assert RuleOutcome.objects.filter(entry=entry).count() == 12
    assert set(RuleOutcome.objects.values_list("outcome", flat=True)) <= {"pass", "fail", "review"}
    assert all(o.message_es and o.source for o in RuleOutcome.objects.all())


def test_messages_follow_their_parameters(importer: Any, actor: Any) -> None:
    """Outcome texts are rendered once per (rule, outcome, parameters) and reused: entries
    with different parameters get their own words, in English and Spanish, and a cold
    process (caches cleared) writes the very same rows."""
    from habeas.transfers.models import RuleOutcome
    from habeas.transfers.rules import clear_caches

    target = make_person(actor)  # José Alberto Hernández Ramírez, 1990-05-17
    rows = [
        row(sending_ref="P2", sentence="P2Y"),
        row(sending_ref="P5", sentence="P5Y"),
        row(sending_ref="P5b", given_names="Ana", sentence="P5Y"),
        row(sending_ref="L", given_names="Ana", sentence="life"),
    ]

    def texts(manifest: Any) -> dict[tuple[str, str], tuple[str, str, str]]:
        return {
            (o.entry.sending_ref, o.rule): (o.outcome, o.message, o.message_es)
            for o in RuleOutcome.objects.filter(entry__manifest=manifest).select_related("entry")
        }

    first_manifest = importer(to_csv(rows), ref="MSG-1").manifest
    first = texts(first_manifest)
    assert first["P2", "U4"] == (
        "pass",
        "sentence ends 2026-01-10",
        "la condena termina 2026-01-10",
    )
    assert first["P5", "U4"] == (
        "pass",
        "sentence ends 2029-01-10",
        "la condena termina 2029-01-10",
    )
    assert first["P5b", "U4"] == first["P5", "U4"]
    assert first["L", "U4"] == ("pass", "sentence ends life", "la condena termina life")
    assert first["P5", "U8"] == (
        "pass",
        f"the same person as registry id {target.pk} (score 1.00)",
        f"la misma persona que el registro {target.pk} (puntuación 1.00)",
    )
    assert first["P5b", "U8"] == ("pass", "not in the registry yet", "aún no consta en el registro")
    clear_caches()
    again = importer(to_csv(rows, bom=True), ref="MSG-2")  # other bytes: a new manifest
    assert not again.recognised
    assert again.manifest.pk != first_manifest.pk
    assert texts(again.manifest) == first
