"""Every payload the services build, and the ledger's copy of it, validate against the
action's declared schema. This module loads the demo itself (not the tamper matrix's shared
copy), so that every payload the demo's services build passes through the recorder."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ledger.test_registry import _beyond_the_demo, _schema_problems, appended  # noqa: F401


@pytest.mark.django_db
def test_every_payload_matches_its_actions_schema(
    appended: list[tuple[str, dict[str, Any]]],  # noqa: F811
) -> None:
    """Both the payload the service built and the ledger's copy (personal values as
    commitments, times as ISO text) validate against the action's schema. The demo is loaded
    here, not shared with the module, so that every payload its services build is seen."""
    from django.test.utils import override_settings

    from habeas.ledger.models import LedgerEntry
    from tests.ledger.test_tamper_matrix import _load_demo

    with override_settings(HABEAS_DEMO_READING_MINUTES=60):
        _load_demo()
    _beyond_the_demo()
    entries = [(e.action, e.payload) for e in LedgerEntry.objects.order_by("index")]
    assert entries
    assert _schema_problems(entries) == [], "ledger entries that do not match their schema"
    assert len(appended) == len(entries)
    assert _schema_problems(appended) == [], "appended payloads that do not match their schema"
