"""Incidents and deaths in custody (rules I1-I4: Mandela Rules 69, 71, 7(d)) and disciplinary
sanctions (S1-S3: Mandela Rules 43-44), each on both sides of its boundary, through the
services; the death flows into custody (release ``death``), notifications (Rule 69, VCCR)
and oversight's deaths list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.api.conftest import scene  # noqa: F401  (people in TEC and OTH)

AT = dt.datetime(2025, 6, 1, 22, 30, tzinfo=dt.UTC)


def _record(actor: Any, world: Any, kind: str, people: list[Any], **kw: Any) -> Any:
    from habeas.conditions.incidents import incident_record

    return incident_record(
        actor=actor,
        facility=kw.pop("facility", world["tec"]),
        kind=kind,
        occurred_at=kw.pop("at", AT),
        description=kw.pop("description", "Found injured in the cell at the night count."),
        people=people,
        **kw,
    )


def _who(person: Any, role: str, record: Any = None) -> Any:
    from habeas.conditions.incidents import Involved

    return Involved(person=person, role=role, admission_record=record)


@pytest.mark.parametrize("kind", ["death", "serious_injury"])
def test_death_or_serious_injury_closes_only_after_authority_report_and_kin(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
    kind: str,
) -> None:
    from habeas.conditions.incidents import (
        incident_close,
        incident_notify_kin,
        incident_report_authority,
    )
    from habeas.core.errors import Conflict

    person = scene["people"]["us"]
    role = "deceased" if kind == "death" else "injured"
    incident = _record(actor, scene, kind, [_who(person, role)])
    with pytest.raises(Conflict, match=r"I1 \(Mandela Rule 71\(1\)\)"):
        incident_close(actor=actor, incident=incident)
    incident_report_authority(
        actor=actor,
        incident=incident,
        authority="PDDH",
        reported_at=AT + dt.timedelta(hours=1),
        reference="PDDH-1",
    )
    with pytest.raises(Conflict, match=r"I2 \(Mandela Rule 69\)"):
        incident_close(actor=actor, incident=incident)
    incident_notify_kin(
        actor=actor,
        incident=incident,
        notified="His mother",
        how="telephone",
        at=AT + dt.timedelta(hours=2),
    )
    closed = incident_close(actor=actor, incident=incident, note="done")
    assert closed.status == "closed"
    assert closed.closed_at is not None


def test_kin_before_report_still_needs_the_report(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.conditions.incidents import incident_close, incident_notify_kin
    from habeas.core.errors import Conflict

    incident = _record(actor, scene, "serious_injury", [_who(scene["people"]["us"], "victim")])
    incident_notify_kin(actor=actor, incident=incident, notified="Wife", how="visit", at=AT)
    with pytest.raises(Conflict, match="I1"):
        incident_close(actor=actor, incident=incident)


def test_other_kinds_close_without_a_report(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.conditions.incidents import incident_close

    incident = _record(actor, scene, "assault", [_who(scene["people"]["us"], "victim")])
    assert incident_close(actor=actor, incident=incident).status == "closed"


def test_description_is_a_commitment_on_the_ledger(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.ledger.models import LedgerEntry

    incident = _record(
        actor, scene, "assault", [_who(scene["people"]["us"], "victim")], description="SECRET-X"
    )
    entry = LedgerEntry.objects.get(action="conditions.incident_recorded")
    assert entry.subject == f"incident:{incident.pk}"
    assert entry.payload["description"].startswith("hmac-sha256:")
    assert "SECRET-X" not in str(entry.payload)


def test_death_releases_the_person_with_reason_death_and_notifies(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.custody.models import CustodyEpisode
    from habeas.ledger.models import LedgerEntry
    from habeas.notifications.models import Delivery
    from habeas.notifications.services import subscription_create
    from habeas.oversight.selectors import deaths_list

    person = scene["people"]["us"]
    subscription_create(
        actor=actor,
        name="Consulate of Venezuela",
        audience="consular",
        country="VE",
        url="https://consulate.example/hook",
        secret="s" * 20,
    )
    incident = _record(actor, scene, "death", [_who(person, "deceased")])
    episode = CustodyEpisode.objects.get(person=person, facility=scene["tec"])
    assert episode.release_reason == "death"
    assert episode.released_at == AT
    assert episode.release_note == f"incident {incident.pk}"
    actions = list(LedgerEntry.objects.order_by("-index").values_list("action", flat=True)[:3])
    assert "conditions.incident_recorded" in actions
    assert "custody.released" in actions
    assert Delivery.objects.filter(person=person, event="death", audience="consular").exists()
    assert episode.pk in [e.pk for e in deaths_list()]


def test_a_death_in_custody_tells_kin_consulate_and_sending_state_in_its_transaction(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    """Mandela Rule 69 ("in the event of a prisoner's death, the prison director shall at once
    inform the prisoner's next of kin"): the relative is told even though the person objected
    to family notices under Rule 68, which is the prisoner's right over their own
    imprisonment, transfer, illness or injury, not over their death; the consulate (VCCR
    arts. 36-37(a)) and the sending state are told too. The notices, in the relative's
    language, and their delivery tasks are written in the transaction of the death."""
    from django_tasks_db.models import DBTaskResult

    from habeas.core.clock import now
    from habeas.custody.models import CustodyEpisode
    from habeas.notifications.models import Delivery
    from habeas.notifications.services import family_objection_record, subscription_create
    from habeas.transfers.models import AdmissionRecord
    from tests.conftest import direct_write

    person = scene["people"]["us"]
    episode = CustodyEpisode.objects.get(person=person, facility=scene["tec"])
    for audience, country in (("consular", "VE"), ("sending_state", "US")):
        subscription_create(
            actor=actor, name=f"{audience} {country}", audience=audience, country=country,
            url=f"https://{country.lower()}.example/hook", secret="s" * 20,
        )  # fmt: skip
    direct_write(
        lambda: AdmissionRecord(
            episode=episode, contact_email="madre@example.org", rights_language="es",
            updated_at=now(),
        ).save()
    )  # fmt: skip
    person.language = "es"
    direct_write(lambda: person.save(update_fields=["language"]))
    family_objection_record(actor=actor, person=person, reason="no quiere")
    _record(actor, scene, "death", [_who(person, "deceased")])
    told = {d.audience: d for d in Delivery.objects.filter(episode=episode)}
    assert set(told) == {"family", "consular", "sending_state"}
    assert {d.event for d in told.values()} == {"death"}
    assert told["family"].address == "madre@example.org"
    assert told["family"].language == "es"
    assert told["family"].subject.startswith("Muerte bajo custodia")
    assert told["consular"].subject.startswith("Death in custody")
    queued = {
        pk
        for t in DBTaskResult.objects.filter(task_path__endswith=".deliver_batch_task")
        for pk in t.args_kwargs["args"][0]
    }
    assert {d.pk for d in told.values()} <= queued


def test_a_death_is_not_recorded_when_its_notices_cannot_be_queued(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The notices are queued in the death's transaction: no death without its notices."""
    from habeas.conditions.cases_models import Incident
    from habeas.custody.models import CustodyEpisode
    from habeas.ledger.services import ledger_size
    from habeas.notifications import services

    def refuse(**kwargs: Any) -> None:
        raise RuntimeError("queue refused")

    monkeypatch.setattr(services, "notices_queue", refuse)
    before = ledger_size()
    with pytest.raises(RuntimeError, match="queue refused"):
        _record(actor, scene, "death", [_who(scene["people"]["us"], "deceased")])
    assert not Incident.objects.exists()
    assert CustodyEpisode.objects.get(pk=scene["episodes"]["us"].pk).released_at is None
    assert ledger_size() == before


def test_death_and_release_are_one_transaction(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from habeas.conditions import incidents
    from habeas.conditions.cases_models import Incident
    from habeas.core.errors import Conflict
    from habeas.ledger.services import ledger_size

    def refuse(**kwargs: Any) -> None:
        raise Conflict("release refused")

    monkeypatch.setattr(incidents, "custody_release", refuse)
    before = ledger_size()
    with pytest.raises(Conflict):
        _record(actor, scene, "death", [_who(scene["people"]["us"], "deceased")])
    assert not Incident.objects.exists()
    assert ledger_size() == before


def test_death_names_exactly_one_deceased(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="I3"):
        _record(actor, scene, "death", [_who(scene["people"]["us"], "victim")])


def test_people_involved_must_be_held_there(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="was not held in TEC"):
        _record(actor, scene, "assault", [_who(scene["people"]["gt_oth"], "victim")])


def test_injuries_at_admission_are_linked_only_when_recorded_and_own(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.core.errors import ValidationFailed
    from habeas.transfers.models import AdmissionRecord
    from habeas.transfers.services import (
        admission_record_update,
        manifest_accept,
        manifest_admit,
        manifest_import,
    )
    from tests.transfers.helpers import row, to_csv

    manifest = manifest_import(
        actor=actor,
        data=to_csv([row()]),
        agreement=scene["us"],
        ref="US1",
        decided_on=dt.date(2025, 3, 20),
    ).manifest
    assert manifest is not None
    manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    (episode,) = manifest_admit(
        actor=actor, manifest=manifest, arrived_at=dt.datetime(2025, 3, 21, 9, tzinfo=dt.UTC)
    )
    record = AdmissionRecord.objects.get(episode=episode)
    arrival = episode.person
    with pytest.raises(ValidationFailed, match=r"I4 \(Mandela Rule 7\(d\)\)"):
        _record(actor, scene, "assault", [_who(arrival, "victim", record)])  # no injuries yet
    record = admission_record_update(
        actor=actor, record=record, visible_injuries="Bruised ribs", rights_language="es"
    )
    with pytest.raises(ValidationFailed, match="I4"):  # someone else's record
        _record(actor, scene, "assault", [_who(scene["people"]["us"], "victim", record)])
    incident = _record(actor, scene, "assault", [_who(arrival, "victim", record)])
    assert incident.people.get().admission_record == record


# --- sanctions (Mandela Rules 36-46) -------------------------------------------------------


def _sanction(actor: Any, scene: dict[str, Any], measure: str, days: float | None) -> Any:  # noqa: F811
    from habeas.conditions.incidents import sanction_impose

    return sanction_impose(
        actor=actor,
        person=scene["people"]["us"],
        facility=scene["tec"],
        measure=measure,
        reason="Fight in the yard",
        starts_at=AT,
        ends_at=AT + dt.timedelta(days=days) if days is not None else None,
    )


def test_solitary_confinement_at_most_fifteen_days(scene: dict[str, Any], actor: Any) -> None:  # noqa: F811
    from habeas.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=r"43\(1\)\(a\), 44\): indefinite"):
        _sanction(actor, scene, "solitary_confinement", None)
    with pytest.raises(ValidationFailed, match=r"43\(1\)\(b\), 44\).*15.5 days"):
        _sanction(actor, scene, "solitary_confinement", 15.5)
    assert _sanction(actor, scene, "solitary_confinement", 15).measure == "solitary_confinement"


def test_family_contact_never_prohibited_and_restricted_only_for_a_time(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=r"S3 \(Mandela Rule 43\(3\)\)"):
        _sanction(actor, scene, "family_contact_prohibited", 5)
    with pytest.raises(ValidationFailed, match=r"S2 \(Mandela Rule 43\(3\)\)"):
        _sanction(actor, scene, "contact_restricted", None)
    assert _sanction(actor, scene, "contact_restricted", 7).ends_at is not None


@pytest.mark.parametrize(
    ("measure", "citation"),
    [
        ("collective_punishment", "43(1)(e)"),
        ("corporal_punishment", "43(1)(d)"),
        ("reduced_diet", "43(1)(d)"),
        ("dark_cell", "43(1)(c)"),
        ("restraints", "43(2)"),
    ],
)
def test_prohibited_measures_are_refused_with_their_citation(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
    measure: str,
    citation: str,
) -> None:
    from habeas.conditions.cases_models import Sanction
    from habeas.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=f"Mandela Rule {citation}".replace("(", r"\(")
                       .replace(")", r"\)")):  # fmt: skip
        _sanction(actor, scene, measure, 3)
    assert not Sanction.objects.exists()


def test_sanction_reason_is_a_commitment_in_the_persons_history(
    scene: dict[str, Any],  # noqa: F811
    actor: Any,
) -> None:
    from habeas.ledger.models import LedgerEntry

    sanction = _sanction(actor, scene, "warning", None)
    entry = LedgerEntry.objects.get(action="conditions.sanction_imposed")
    assert entry.subject == f"person:{sanction.person_id}"
    assert entry.payload["reason"].startswith("hmac-sha256:")
