"""Cell moves and releases (Mandela Rule 7(c): every transfer, and the day and hour of release,
recorded; Rule 11 on every move). Each writes one ledger entry in its transaction; a refusal
writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.core.actor import Actor
from habeas.core.errors import ApplicationError, Conflict, ValidationFailed
from habeas.custody.models import CustodyEpisode
from habeas.custody.selectors import person_history
from habeas.custody.services import MSG_NOT_HELD, MSG_RELEASE_REASON, custody_release
from habeas.facilities.models import Cell
from habeas.housing.models import Placement
from habeas.housing.placements import MSG_SAME_CELL, placement_move
from habeas.housing.selectors import current_placement
from habeas.ledger.models import LedgerEntry
from habeas.ledger.privacy import is_commitment
from habeas.ledger.services import ledger_size
from tests.conftest import admit, make_person, removal_order

T0 = dt.datetime(2025, 3, 16, 14, 5, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def state() -> dict[str, Any]:
    return {
        "episodes": list(CustodyEpisode.objects.order_by("pk").values()),
        "placements": list(Placement.objects.order_by("pk").values()),
        "ledger": ledger_size(),
        "entries": LedgerEntry.objects.count(),
    }


def refused_without_writes(call: Any, error: type[ApplicationError] = Conflict) -> ApplicationError:
    before = state()
    with pytest.raises(error) as info:
        call()
    assert state() == before
    return info.value


def cell(code: str) -> Cell:
    return Cell.objects.get(code=code)


@pytest.fixture
def held(world: dict[str, Any], actor: Actor) -> Any:
    """A sentenced man in TEC M1-01 since T0."""
    person = make_person(actor)
    admit(actor, person, world["tec"], world["us"], at=T0, cell="M1-01")
    return person


# --- moves ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_move_ends_the_old_placement_opens_a_new_one_and_writes_one_entry(
    held: Any, actor: Actor
) -> None:
    old = current_placement(held)
    assert old is not None
    size = ledger_size()
    new = placement_move(
        actor=actor, person=held, cell=cell("M1-02"), at=T0 + H, reason=" crowding "
    )
    old.refresh_from_db()
    assert old.ended_at == T0 + H
    assert new.started_at == T0 + H
    assert new.ended_at is None
    assert new.reason == "crowding"
    assert current_placement(held) == new
    assert ledger_size() == size + 1
    entry = LedgerEntry.objects.get(index=size)
    assert entry.action == "placement.moved"
    assert entry.subject == f"person:{held.pk}"
    assert entry.occurred_at == T0 + H
    assert entry.payload == {
        "episode": new.episode_id,
        "ended": {"id": old.pk, "cell": "TEC/M1-01", "ended_at": "2025-03-16T15:05:00Z"},
        "placement": {
            "id": new.pk,
            "cell": "TEC/M1-02",
            "started_at": "2025-03-16T15:05:00Z",
            "reason": "crowding",
        },
    }
    assert [e.action for e in person_history(held)] == [
        "people.created",
        "custody.admitted",
        "placement.moved",
    ]


@pytest.mark.django_db
def test_move_into_a_full_cell_is_refused(world: dict[str, Any], held: Any, actor: Actor) -> None:
    for _ in range(4):
        admit(actor, make_person(actor), world["tec"], world["us"], at=T0, cell="M1-02")
    error = refused_without_writes(
        lambda: placement_move(actor=actor, person=held, cell=cell("M1-02"), at=T0 + H, reason="x")
    )
    assert "capacity:working" in error.details["rules"]


@pytest.mark.django_db
def test_move_breaking_separation_is_refused(
    world: dict[str, Any], held: Any, actor: Actor
) -> None:
    for code, rule in [("M2-01", "separation:regime"), ("W1-01", "separation:sex")]:
        error = refused_without_writes(
            lambda code=code: placement_move(
                actor=actor, person=held, cell=cell(code), at=T0 + H, reason="x"
            )
        )
        assert rule in error.details["rules"]
    civil = make_person(actor)
    admit(actor, civil, world["tec"], world["us"], at=T0, bases=[removal_order()], cell="M2-01")
    error = refused_without_writes(
        lambda: placement_move(actor=actor, person=civil, cell=cell("M1-01"), at=T0 + H, reason="x")
    )
    assert error.details["rules"] == "separation:regime"
    placement_move(actor=actor, person=civil, cell=cell("M2-02"), at=T0 + H, reason="x")


@pytest.mark.django_db
def test_move_checks_age_on_the_day_of_the_move(world: dict[str, Any], actor: Actor) -> None:
    # An adult on admission stays an adult; the age rule uses the move date, not today.
    person = make_person(actor, dob=dt.date(2007, 3, 16))
    admit(actor, person, world["tec"], world["us"], at=T0, cell="M1-01")
    placement_move(actor=actor, person=person, cell=cell("M1-02"), at=T0 + H, reason="x")


@pytest.mark.django_db
def test_move_to_the_same_cell_another_facility_or_without_reason_is_refused(
    held: Any, actor: Actor
) -> None:
    error = refused_without_writes(
        lambda: placement_move(actor=actor, person=held, cell=cell("M1-01"), at=T0 + H, reason="x")
    )
    assert error.message == MSG_SAME_CELL.format(person=held.pk, cell="M1-01")
    refused_without_writes(
        lambda: placement_move(actor=actor, person=held, cell=cell("A-01"), at=T0 + H, reason="x"),
        ValidationFailed,
    )
    refused_without_writes(
        lambda: placement_move(
            actor=actor, person=held, cell=cell("M1-02"), at=T0 + H, reason="  "
        ),
        ValidationFailed,
    )


@pytest.mark.django_db
def test_move_before_the_current_placement_or_in_the_future_is_refused(
    held: Any, actor: Actor
) -> None:
    from habeas.core.clock import now

    for at in (T0 - dt.timedelta(seconds=1), now() + H):
        refused_without_writes(
            lambda at=at: placement_move(
                actor=actor, person=held, cell=cell("M1-02"), at=at, reason="x"
            ),
            ValidationFailed,
        )
    # At the very minute of admission is allowed (placed, then moved at once).
    placement_move(actor=actor, person=held, cell=cell("M1-02"), at=T0, reason="x")


@pytest.mark.django_db
def test_move_of_a_person_not_in_custody_is_refused(world: dict[str, Any], actor: Actor) -> None:
    person = make_person(actor)
    error = refused_without_writes(
        lambda: placement_move(actor=actor, person=person, cell=cell("M1-01"), at=T0, reason="x")
    )
    assert error.message == MSG_NOT_HELD.format(person=person.pk)


@pytest.mark.django_db
def test_failed_move_after_the_ledger_append_rolls_back(
    held: Any, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import habeas.housing.placements as placements
    from habeas.ledger.services import ledger_append_many as real

    def append_then_fail(**kwargs: Any) -> Any:
        real(**kwargs)
        raise RuntimeError("crash")

    monkeypatch.setattr(placements, "ledger_append_many", append_then_fail)
    before = state()
    with pytest.raises(RuntimeError):
        placement_move(actor=actor, person=held, cell=cell("M1-02"), at=T0 + H, reason="x")
    assert state() == before


# --- releases ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_release_closes_episode_and_placement_and_writes_one_entry(held: Any, actor: Actor) -> None:
    placement = current_placement(held)
    assert placement is not None
    size = ledger_size()
    at = T0 + 24 * H
    episode = custody_release(
        actor=actor, person=held, reason="repatriated", at=at, destination="ve", note="flight 1"
    )
    placement.refresh_from_db()
    assert placement.ended_at == at
    assert episode.released_at == at
    assert episode.release_reason == "repatriated"
    assert episode.release_destination == "VE"
    assert current_placement(held) is None
    assert not CustodyEpisode.objects.open().filter(person=held).exists()
    assert ledger_size() == size + 1
    entry = LedgerEntry.objects.get(index=size)
    assert (entry.action, entry.subject, entry.occurred_at) == (
        "custody.released",
        f"person:{held.pk}",
        at,
    )
    assert entry.payload == {
        "episode": {
            "id": episode.pk,
            "released_at": "2025-03-17T14:05:00Z",
            "reason": "repatriated",
            "destination": "VE",
            "note": entry.payload["episode"]["note"],
        },
    }  # housing closes the placement listening to the release (habeas.housing.events)
    assert is_commitment(entry.payload["episode"]["note"])  # free text: personal
    assert episode.release_note == "flight 1"
    # The cell has room again and the person may be admitted anew later.
    assert Placement.objects.filter(cell__code="M1-01", ended_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_release_frees_the_place(world: dict[str, Any], actor: Actor) -> None:
    people = [make_person(actor) for _ in range(5)]
    for p in people[:4]:
        admit(actor, p, world["tec"], world["us"], at=T0, cell="M1-03")
    custody_release(actor=actor, person=people[0], reason="court_order", at=T0 + H)
    admit(actor, people[4], world["tec"], world["us"], at=T0 + 2 * H, cell="M1-03")
    # Readmission after release opens a second episode.
    admit(actor, people[0], world["tec"], world["us"], at=T0 + 3 * H, cell="M1-01")
    assert CustodyEpisode.objects.filter(person=people[0]).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["escaped", "", "Repatriated"])
def test_release_with_unknown_reason_is_refused(held: Any, actor: Actor, reason: str) -> None:
    error = refused_without_writes(
        lambda: custody_release(actor=actor, person=held, reason=reason, at=T0 + H),
        ValidationFailed,
    )
    assert error.message == MSG_RELEASE_REASON.format(reason=reason)


@pytest.mark.django_db
@pytest.mark.parametrize("delta", [dt.timedelta(0), -H])
def test_release_at_or_before_admission_is_refused(
    held: Any, actor: Actor, delta: dt.timedelta
) -> None:
    refused_without_writes(
        lambda: custody_release(actor=actor, person=held, reason="other", at=T0 + delta),
        ValidationFailed,
    )


@pytest.mark.django_db
def test_release_before_the_current_placement_is_refused(held: Any, actor: Actor) -> None:
    placement_move(actor=actor, person=held, cell=cell("M1-02"), at=T0 + 2 * H, reason="x")
    refused_without_writes(
        lambda: custody_release(actor=actor, person=held, reason="other", at=T0 + H),
        ValidationFailed,
    )


@pytest.mark.django_db
def test_release_in_the_future_is_refused(held: Any, actor: Actor) -> None:
    from habeas.core.clock import now

    refused_without_writes(
        lambda: custody_release(actor=actor, person=held, reason="other", at=now() + H),
        ValidationFailed,
    )


@pytest.mark.django_db
def test_release_of_a_person_not_in_custody_is_refused(held: Any, actor: Actor) -> None:
    custody_release(actor=actor, person=held, reason="death", at=T0 + H)
    error = refused_without_writes(
        lambda: custody_release(actor=actor, person=held, reason="death", at=T0 + 2 * H)
    )
    assert error.status == 409
    assert error.message == MSG_NOT_HELD.format(person=held.pk)
    never = make_person(actor)
    refused_without_writes(
        lambda: custody_release(actor=actor, person=never, reason="other", at=T0)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("destination", ["USA", "X", "ZZ", "1"])
def test_release_destination_must_be_a_country_code(
    held: Any, actor: Actor, destination: str
) -> None:
    refused_without_writes(
        lambda: custody_release(
            actor=actor, person=held, reason="transferred", at=T0 + H, destination=destination
        ),
        ValidationFailed,
    )


@pytest.mark.django_db
def test_failed_release_after_the_ledger_append_rolls_back(
    held: Any, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import habeas.custody.services as custody_services
    from habeas.ledger.services import ledger_append_many as real

    def append_then_fail(**kwargs: Any) -> Any:
        real(**kwargs)
        raise RuntimeError("crash")

    monkeypatch.setattr(custody_services, "ledger_append_many", append_then_fail)
    before = state()
    with pytest.raises(RuntimeError):
        custody_release(actor=actor, person=held, reason="other", at=T0 + H)
    assert state() == before
    assert CustodyEpisode.objects.open().filter(person=held).exists()
