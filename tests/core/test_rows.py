"""Plain multi-row inserts (:mod:`habeas.core.rows`): refused outside a service for domain
models, as ``bulk_create`` is (ARCHITECTURE.md, the one rule), and a row written as plain
values reads back exactly as one written by the ORM, with the ids the database would give."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from habeas.core.rows import Rows
from habeas.core.services import WriteOutsideService
from habeas.ledger.models import SubjectKey
from habeas.people.models import Person


@pytest.mark.django_db
def test_a_domain_models_rows_are_refused_outside_a_service() -> None:
    rows = Rows()
    with pytest.raises(WriteOutsideService):
        rows.ids(Person, 1)
    with pytest.raises(WriteOutsideService):
        rows.insert(Person, ("id",), [(1,)])
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_plain_rows_read_back_as_the_orm_writes_them_with_the_next_ids() -> None:
    at = dt.datetime(2026, 3, 1, 8, 30, 15, 250000, tzinfo=ZoneInfo("America/El_Salvador"))
    with transaction.atomic():
        first = SubjectKey.objects.create(name="person:orm", key=b"k" * 32, created_at=at)
        rows = Rows()
        ids = rows.ids(SubjectKey, 3)
        assert ids == [first.pk + 1, first.pk + 2, first.pk + 3]
        rows.insert(
            SubjectKey,
            ("id", "name", "key", "created_at"),
            [(pk, f"person:plain{pk}", b"p" * 32, rows.instant(at)) for pk in ids],
        )
    read = {k.name: k for k in SubjectKey.objects.all()}
    assert len(read) == 4
    for pk in ids:
        key = read[f"person:plain{pk}"]
        assert key.pk == pk
        assert bytes(key.key) == b"p" * 32
        assert key.created_at == at == read["person:orm"].created_at
    with transaction.atomic():
        after = SubjectKey.objects.create(name="person:after", key=b"a" * 32, created_at=at)
    assert after.pk == ids[-1] + 1  # the database's own counter moved past the plain rows
    if connection.vendor == "sqlite":  # PostgreSQL: times are handed to the driver as they are
        with pytest.raises(ValueError, match="naive"):
            Rows().instant(dt.datetime(2026, 3, 1))
