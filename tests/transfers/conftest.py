from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.transfers.helpers import ON


@pytest.fixture
def on() -> dt.date:
    return dt.date.fromisoformat(ON)


@pytest.fixture
def importer(world: Any, actor: Any, on: dt.date) -> Any:
    from habeas.transfers.services import manifest_import

    def run(data: bytes, agreement: Any = None, **kw: Any) -> Any:
        kw.setdefault("decided_on", on)
        return manifest_import(actor=actor, data=data, agreement=agreement or world["us"], **kw)

    return run
