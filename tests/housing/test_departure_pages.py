"""The person page's release and transfer forms: the time in the facility's zone, a
confirmation step with the warnings, nothing written before confirming, and the write through
the custody services (ledger entry, notice queued)."""

from __future__ import annotations

from typing import Any

import pytest

from habeas.custody.models import CustodyEpisode
from habeas.ledger.models import LedgerEntry
from tests.api import conftest as api_fixtures

scene = api_fixtures.scene
client_for = api_fixtures.client_for


@pytest.fixture
def mover(scene: dict[str, Any], actor: Any) -> Any:
    from tests.api.conftest import ADMITTED
    from tests.conftest import admit, make_person, sentence

    person = make_person(actor, given_names="Elias", first_surname="Cinco", authority="GT")
    admit(actor, person, scene["tec"], scene["gt"], bases=[sentence("P2Y")], at=ADMITTED)
    return person


def test_person_page_links_the_actions_for_staff_only(
    scene: dict[str, Any], client_for: Any
) -> None:
    person = scene["people"]["us"]
    page = client_for("staff").get(f"/people/{person.pk}/").content.decode()
    assert f"/housing/people/{person.pk}/release/" in page
    assert f"/housing/people/{person.pk}/transfer/" in page
    seen = client_for("oversight").get(f"/people/{person.pk}/").content.decode()
    assert f"/housing/people/{person.pk}/release/" not in seen


def test_release_page_confirms_and_warns_before_writing(
    scene: dict[str, Any], client_for: Any
) -> None:
    person = scene["people"]["us"]
    staff = client_for("staff")
    url = f"/housing/people/{person.pk}/release/"
    form = staff.get(url)
    assert form.status_code == 200
    assert "America/El_Salvador" in form.content.decode()
    body = {"reason": "sentence_served", "date": "2025-03-20", "time": "09:30", "destination": "us"}
    before = LedgerEntry.objects.count()
    confirm = staff.post(url, body)
    text = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Please confirm" in text
    assert "2025-03-20 09:30 (America/El_Salvador)" in text  # local time, as entered
    assert "The projected release date is" in text
    assert 'name="confirm" value="on"' in text
    assert LedgerEntry.objects.count() == before
    done = staff.post(url, {**body, "confirm": "on"})
    assert done.status_code == 302
    episode = CustodyEpisode.objects.get(person=person)
    # 09:30 in El Salvador (UTC-6) is 15:30 UTC
    assert episode.released_at.isoformat() == "2025-03-20T15:30:00+00:00"
    assert episode.release_destination == "US"
    assert LedgerEntry.objects.filter(action="custody.released").count() == 2  # with the scene's


def test_release_page_in_spanish(scene: dict[str, Any], client_for: Any) -> None:
    person = scene["people"]["us"]
    staff = client_for("staff")
    staff.cookies["django_language"] = "es"
    text = staff.post(
        f"/housing/people/{person.pk}/release/",
        {"reason": "sentence_served", "date": "2025-03-20", "time": "09:30"},
        HTTP_ACCEPT_LANGUAGE="es",
    ).content.decode()
    assert "Confirme" in text


def test_transfer_page_offers_the_agreement_facilities_and_moves(
    scene: dict[str, Any], client_for: Any, mover: Any
) -> None:
    staff = client_for("staff")
    url = f"/housing/people/{mover.pk}/transfer/"
    page = staff.get(url).content.decode()
    assert 'value="OTH"' in page
    us_page = staff.get(f"/housing/people/{scene['people']['us'].pk}/transfer/").content.decode()
    assert 'value="OTH"' not in us_page  # the US agreement covers TEC only
    body = {"to": "OTH", "date": "2025-03-20", "time": "10:00", "reason": "closer to family"}
    assert "Please confirm" in staff.post(url, body).content.decode()
    assert not LedgerEntry.objects.filter(action="custody.transferred").exists()
    done = staff.post(url, {**body, "confirm": "on"})
    assert done.status_code == 302
    assert CustodyEpisode.objects.get(person=mover).facility.code == "OTH"
    history = client_for("staff_oth").get(f"/people/{mover.pk}/").content.decode()
    assert "Transferred from TEC to OTH" in history


def test_refused_transfer_is_shown_in_words(scene: dict[str, Any], client_for: Any) -> None:
    woman = scene["people"]["gt_tec"]
    response = client_for("staff").post(
        f"/housing/people/{woman.pk}/transfer/",
        {"to": "OTH", "date": "2025-03-20", "time": "10:00", "confirm": "on"},
    )
    assert response.status_code == 409
    assert "no cell in OTH can take this person" in response.content.decode()


def test_a_release_in_the_current_minute_comes_after_a_move_made_in_it(
    scene: dict[str, Any], client_for: Any, mover: Any, actor: Any
) -> None:
    """The form's default time is the current minute, to the minute; it means now, so a
    person moved seconds ago is not refused as released "before the current placement"."""
    import time
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from habeas.facilities.models import Cell
    from habeas.housing.placements import placement_move

    if timezone.now().second >= 50:  # keep the move and the release in one minute
        time.sleep(61 - timezone.now().second)
    episode = CustodyEpisode.objects.get(person=mover, released_at__isnull=True)
    current = episode.placements.get(ended_at__isnull=True).cell
    target = Cell.objects.filter(module=current.module).exclude(pk=current.pk).first()
    assert target is not None
    placement_move(actor=actor, person=mover, cell=target, at=timezone.now(), reason="repairs")
    local = timezone.now().astimezone(ZoneInfo("America/El_Salvador"))
    body = {
        "reason": "court_order",
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "destination": "GT",
        "confirm": "on",
    }
    done = client_for("staff").post(f"/housing/people/{mover.pk}/release/", body)
    assert done.status_code == 302, done.content.decode()[:2000]
    episode.refresh_from_db()
    assert episode.released_at is not None
    assert episode.released_at >= episode.placements.order_by("-started_at").first().started_at
