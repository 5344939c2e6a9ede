"""The demo flights (INTERFACES.md demo scenario): 238 + 23 people, messy, decided, the
eligible admitted within the quota."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
def test_demo_flights() -> None:
    from habeas.transfers.demo import load_demo_flights
    from habeas.transfers.models import ManifestEntry
    from habeas.web.demo import load_demo

    summary: dict[str, Any] = load_demo(scale="small")["flights"]
    f1, f2 = summary["US-SV-2025-F1"], summary["US-SV-2025-F2"]
    assert f1["rows"] == 238
    assert f2["rows"] == 23
    assert f1["ineligible"] > 100  # no conviction: "only convicted criminals"
    assert f1["needs_review"] >= 3
    assert f1["eligible"] > 50
    assert f1["admitted"] == f1["eligible"]
    assert ManifestEntry.objects.filter(matched_existing=True).count() >= 3
    rules = set(
        ManifestEntry.objects.filter(decision="ineligible").values_list(
            "outcomes__rule", "outcomes__outcome"
        )
    )
    assert {
        ("U2", "fail"),
        ("U3", "fail"),
        ("U5", "fail"),
        ("valid:date_of_birth", "fail"),
        ("valid:nationalities", "fail"),
        ("O2", "fail"),
    } <= rules
    again = load_demo_flights()
    assert again["US-SV-2025-F1"]["admitted"] == 0  # recognised: nothing duplicated
