"""Reception: acceptance counts the places lawful for each person's population kind and
regime (Mandela Rule 11), not the facility's free places; admission per entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from habeas.core.errors import Conflict
from habeas.ledger.models import LedgerEntry
from habeas.transfers.models import ManifestEntry
from habeas.transfers.services import manifest_accept
from tests.transfers.helpers import row, to_csv

ARRIVED = dt.datetime(2025, 3, 21, 14, 5, tzinfo=dt.UTC)


def sentenced_men(n: int, prefix: str = "S") -> list[dict[str, str]]:
    return [
        row(sending_ref=f"{prefix}{i}", given_names="Luis", first_surname=f"Apellido{prefix}{i}")
        for i in range(n)
    ]


def test_more_sentenced_men_than_criminal_places_are_refused(importer: Any, actor: Any) -> None:
    """TEC has 22 working places, but only 12 in its criminal module for men (M1)."""
    manifest = importer(to_csv(sentenced_men(14)), ref="LAW1").manifest
    before = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as refused:
        manifest_accept(actor=actor, manifest=manifest, all_eligible=True)
    assert "may lawfully hold them in TEC" in refused.value.message
    assert "no place for 2 adult_male criminal" in refused.value.message
    assert LedgerEntry.objects.count() == before
    assert not ManifestEntry.objects.filter(status="accepted").exists()
    twelve = [f"S{i}" for i in range(12)]
    assert len(manifest_accept(actor=actor, manifest=manifest, only=twelve)) == 12


def test_entries_accepted_and_not_admitted_hold_their_places(importer: Any, actor: Any) -> None:
    first = importer(to_csv(sentenced_men(10, "A")), ref="LAW2").manifest
    manifest_accept(actor=actor, manifest=first, all_eligible=True)
    second = importer(to_csv(sentenced_men(3, "B")), ref="LAW3").manifest
    with pytest.raises(Conflict, match="no place for 1 adult_male criminal"):
        manifest_accept(actor=actor, manifest=second, all_eligible=True)
    assert len(manifest_accept(actor=actor, manifest=second, only=["B0", "B1"])) == 2
