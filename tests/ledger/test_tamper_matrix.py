"""The tamper matrix (ARCHITECTURE.md, the one rule, item 6), generated from the event
registry and Django's model list.

Every concrete table is either covered (a snapshot that ``verify-ledger`` compares with the
replayed ledger) or declared derived with a reason; a table added later with neither fails
here. For every covered table, on a database loaded with the demo: changing each stored
field of a row, deleting a row and re-keying a row (a row inserted, another gone) behind the
services, with raw SQL, must each make verification name ``table.row[.field]``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import DataError, IntegrityError, connection, models, transaction

from habeas.core.events import REGISTRY
from habeas.ledger.replay import compare

#: Columns a covered table keeps that no replay compares, each with why.
UNCHECKED: dict[str, dict[str, str]] = {
    "people.Person": {
        "created_at": "when the row was written: the entry's recorded_at says it",
        **{
            f"match_key_{k}": "blocking keys of identity matching, derived from the names"
            for k in ("a", "gd", "d1", "d2", "p", "y1", "y2")
        },
        "name_keys": "search keys of staff search, derived from the names",
    },
    "accounts.User": {
        "password": "a salted hash, changed by its owner; never on the ledger",
        "last_login": "bookkeeping of sessions",
        "date_joined": "when the row was written: the entry's recorded_at says it",
        "first_name": "not used by Habeas",
        "last_name": "not used by Habeas",
    },
    "accounts.APIToken": {"last_used_at": "bookkeeping of use (accounts.services.token_touch)"},
    "conditions.SensorToken": {
        "last_used_at": "bookkeeping of use (conditions.sensors.sensor_token_touch)"
    },
    "custody.LegalBasis": {
        "recorded_at": "when the row was written: the entry's recorded_at says it",
    },
    "notifications.Delivery": {
        "claimed_by": "an operational lock of the worker delivering it; the attempt's outcome "
        "is on the ledger",
        "claimed_at": "an operational lock of the worker delivering it",
    },
    "notifications.WebhookSubscription": {"secret": "a credential: never on the ledger"},
}


def _first_id(label: str) -> Any:
    return apps.get_model(label)._base_manager.order_by("pk").values_list("pk", flat=True)[0]


#: Which row of a table to tamper with, where the first one cannot show every field changed
#: (an open absence has no end to move: its end, how and by whom are empty together).
ROW_FILTER: dict[str, dict[str, Any]] = {"custody.TemporaryAbsence": {"ended_at__isnull": False}}

#: Fields under a check constraint with another field of the row: the values written together
#: (a cell is out of use exactly when it has a reason).
TOGETHER: dict[str, dict[str, Any]] = {
    "facilities.Cell": {
        name: lambda row: (
            {"active": False, "deactivation_reason": "tampered"}
            if row["active"]
            else {"active": True, "deactivation_reason": ""}
        )
        for name in ("active", "deactivation_reason")
    },
    # an order ends exactly when it is no longer in force; an alarm is closed at a time
    "custody.LegalBasis": {
        name: lambda row: (
            {"status": "vacated", "ended_on": "2020-01-01"}
            if row["status"] == "active"
            else {"status": "active", "ended_on": None}
        )
        for name in ("status", "ended_on")
    },
    # an incident is closed exactly when it has a closing time
    "conditions.Incident": {
        name: lambda row: (
            {"status": "closed", "closed_at": "2020-01-01 00:00:00+00:00"}
            if row["status"] == "open"
            else {"status": "open", "closed_at": None}
        )
        for name in ("status", "closed_at")
    },
    "custody.CustodyAlarm": {
        name: lambda row: (
            {"status": "closed", "closed_at": "2020-01-01 00:00:00+00:00"}
            if row["status"] == "open"
            else {"status": "open", "closed_at": None}
        )
        for name in ("status", "closed_at")
    },
    # An invoice becomes a note only with the invoice it refers to (itself, here); issued
    # becomes paid only with the time it was paid.
    "billing.Invoice": {
        **{
            name: lambda row: (
                {"kind": "debit_note", "refers_to": row["id"]}
                if row["refers_to_id"] is None
                else {"kind": "invoice", "refers_to": None}
            )
            for name in ("kind", "refers_to")
        },
        **{
            name: lambda row: (
                {"status": "issued", "paid_at": None}
                if row["status"] == "paid"
                else {
                    "status": "paid",
                    "paid_at": connection.ops.adapt_datetimefield_value(
                        dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
                    ),
                }
            )
            for name in ("status", "paid_at")
        },
    },
    # an interview is with one prisoner or one member of staff: the kind and who change together
    "inspections.Interview": {
        name: lambda row: (
            {"kind": "staff", "person": None, "staff": _first_id("accounts.User")}
            if row["kind"] == "prisoner"
            else {"kind": "prisoner", "staff": None, "person": _first_id("people.Person")}
        )
        for name in ("kind", "person", "staff")
    },
}


#: Tables Habeas never writes (roles and scopes grant everything): any row is a tampering, so
#: they are tested by inserting one (test_a_granted_django_permission_is_named).
#: Tables whose rows the ledger names by a natural key rather than the primary key: the column
#: that re-keys a row.
NATURAL_KEY = {
    "transfers.RuleOutcome": "position",
    # many-to-many links, named by the owning row (their own id carries nothing)
    "custody.CustodyEpisode_legal_bases": "custodyepisode",
    "facilities.Facility_agreements": "agreement",
    # a reading is named by its cell and time, committed to by its batch (its id carries nothing)
    "conditions.Reading": "cell",
    # an hourly row likewise, committed to by its rollup
    "conditions.ReadingHour": "cell",
}

NEVER_WRITTEN = {"accounts.User_groups", "accounts.User_user_permissions"}

#: Tables the database itself guards with triggers (issued invoices never change): tampering
#: as the database's owner would, the triggers are dropped first, inside the savepoint.
GUARDED: dict[str, dict[str, list[str]]] = {
    "billing.Invoice": {
        "sqlite": [
            "DROP TRIGGER billing_invoice_no_update",
            "DROP TRIGGER billing_invoice_no_delete",
        ],
        "postgresql": ["DROP TRIGGER billing_invoice_immutable ON billing_invoice"],
    },
}


def _disarm(label: str) -> None:
    with connection.cursor() as cursor:
        for sql in GUARDED.get(label, {}).get(connection.vendor, []):
            cursor.execute(sql)


def _table_of(model: type[models.Model], covered: dict[str, str]) -> str | None:
    label = model._meta.label
    if label in covered:
        return covered[label]
    if model._meta.auto_created:
        for other in apps.get_models():
            for m2m in other._meta.local_many_to_many:
                if m2m.remote_field.through is model:
                    name = f"{other._meta.label}.{m2m.name}"
                    if name in covered:
                        return covered[name]
    return None


def _covered() -> dict[str, str]:
    """Model label (or ``Owner.m2m``) → the covered table's name."""
    covered = {}
    for table in REGISTRY.tables.values():
        for label in table.models:
            covered[label] = table.name
    return covered


def _all_models() -> list[type[models.Model]]:
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or model._meta.abstract or not model._meta.managed:
            continue
        found.append(model)
    return sorted(found, key=lambda m: m._meta.label)


@pytest.mark.django_db
def test_every_table_is_covered_or_declared_derived() -> None:
    covered = _covered()
    undeclared = []
    for model in _all_models():
        label = model._meta.label
        if label in REGISTRY.derived:
            assert REGISTRY.derived[label].reason.strip(), label
            continue
        if _table_of(model, covered) is None:
            undeclared.append(label)
    assert undeclared == [], (
        "tables neither covered by a replay nor declared derived (habeas.core.events): "
        + ", ".join(undeclared)
    )


def _changed(field: models.Field[Any, Any], value: Any) -> Any:
    if isinstance(field, models.BooleanField):
        return not value
    if isinstance(field, models.JSONField):
        return ["tampered", value]
    if isinstance(field, models.DecimalField):
        return (value or Decimal(0)) + 1
    if isinstance(field, models.DateTimeField):
        return (value or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)) + dt.timedelta(seconds=1)
    if isinstance(field, models.DateField):
        return (value or dt.date(2025, 1, 1)) + dt.timedelta(days=1)
    if isinstance(field, models.FloatField):
        return (value or 0.0) + 1.5
    if isinstance(field, models.IntegerField | models.ForeignKey):
        return (value or 0) + 1
    if isinstance(field, models.BinaryField):
        return bytes(value or b"") + b"x"
    text = str(value or "")
    limit = field.max_length or 1000
    if len(text) < limit:
        return text + "x"
    return text[:-1] + ("z" if text.endswith("y") else "y")  # full: change the last letter


def _other_target(field: models.Field[Any, Any], value: Any) -> list[Any]:
    """For a foreign key, another row it may point to (a key to nowhere is refused by the
    database at commit, and a snapshot that reads the target's code through a join would
    see it as empty, as it sees a row pointing nowhere yet)."""
    if not isinstance(field, models.ForeignKey):
        return []
    target = field.related_model._base_manager.exclude(pk=value).order_by("pk")  # type: ignore[union-attr]
    return list(target.values_list("pk", flat=True)[:1])


def _fallbacks(field: models.Field[Any, Any], value: Any) -> list[Any]:
    """Other changed values, for a field under a unique or check constraint: one no other row
    holds, or one below (a foreign key to nowhere is fine: the constraint is deferred and the
    savepoint rolled back)."""
    if isinstance(field, models.IntegerField | models.ForeignKey):
        return [10**9, 30_000, (value or 2) - 1]
    if isinstance(field, models.CharField | models.TextField):
        return ["tampered-unique"]
    if isinstance(field, models.DateTimeField) and value is not None:
        return [value - dt.timedelta(seconds=1)]
    if isinstance(field, models.DateField) and value is not None:
        return [value - dt.timedelta(days=1)]
    return []


def _tamper_targets() -> list[str]:
    covered = _covered()
    return sorted(
        m._meta.label
        for m in _all_models()
        if m._meta.label not in REGISTRY.derived
        and m._meta.label not in NEVER_WRITTEN
        and _table_of(m, covered) is not None
    )


def _problems(table: str | None = None) -> list[str]:
    """Where verification finds a difference; with ``table``, only that covered table's rows
    are compared (the full comparison is the union of the per-table ones)."""
    return [
        d.where
        for d in compare(limit=10_000, tables=None if table is None else {table}).differences
    ]


class _Undo(Exception):
    pass


def _in_savepoint(fn: Any, label: str = "", table: str | None = None) -> list[str]:
    found: list[str] = []
    try:
        with transaction.atomic():
            _disarm(label)
            fn()
            found = _problems(table)
            raise _Undo
    except _Undo:
        pass
    return found


@pytest.fixture(scope="module")
def _demo_once(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The demo, loaded once per module (and worker) inside a transaction that is rolled back
    at the end: each test runs in a savepoint within it (pytest-django's ``db``), so every
    test starts from the same demo without loading it again."""
    from django.db import transaction
    from django.test.utils import override_settings

    with django_db_blocker.unblock(), override_settings(HABEAS_DEMO_READING_MINUTES=60):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            _load_demo()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(_demo_once: Any, db: Any) -> None:
    """The module's demo, seen from this test's savepoint."""


def _load_demo() -> None:
    from habeas.accounts.models import User
    from habeas.accounts.services import token_create
    from habeas.core.actor import Actor
    from habeas.core.clock import now
    from habeas.facilities.models import Cell
    from habeas.facilities.services import cell_certify
    from habeas.housing.allocator import Refusal
    from habeas.housing.models import Placement
    from habeas.housing.services import (
        RollLine,
        keep_apart_close,
        keep_apart_open,
        keep_apart_override,
        roll_count_record,
    )
    from habeas.web.demo import load_demo

    load_demo(scale="small")
    # What the demo does not do: a dated change of the fee schedule.
    from habeas.facilities.setup import setup_apply
    from habeas.facilities.setup_schema import parse_setup
    from habeas.web.demo import SETUP

    fees = 'fees = {per_person_day = "54.79", day_count = "arrival_not_departure"}'
    text = SETUP.read_text(encoding="utf-8")
    assert fees in text
    changed = fees[:-1] + ', changes = [{from = "2027-01-01", per_person_day = "56.00"}]}'
    setup_apply(
        actor=Actor.system("matrix"),
        document=parse_setup(tomllib.loads(text.replace(fees, changed)), name="demo"),
    )
    # What the demo does not do: an API token and a cell certification.
    admin = Actor(name="test:director", role="facility_admin")
    token_create(actor=admin, user=User.objects.order_by("pk").first(), name="matrix")
    cell = Cell.objects.order_by("pk").first()
    assert cell is not None
    cell_certify(
        actor=admin,
        cell=cell,
        working_capacity=cell.working_capacity,
        max_capacity=cell.max_capacity,
        reason="annual certification",
    )
    # ... and the housing records: a keep-apart closed, one overridden, a counted roll.
    held = list(
        Placement.objects.filter(ended_at__isnull=True)
        .select_related("episode__person", "cell__facility")
        .order_by("pk")[:3]
    )
    people = [pl.episode.person for pl in held]
    closed = keep_apart_open(
        actor=admin, person=people[0], other=people[1], scope="cell", reason="threats"
    )
    keep_apart_close(actor=admin, keep_apart=closed, reason="resolved")
    overridden = keep_apart_open(
        actor=admin, person=people[0], other=people[2], scope="module", reason="rivals"
    )
    keep_apart_override(
        actor=admin,
        refused=[
            Refusal(
                rule="keep_apart:module", message="x", overridable=True, keep_apart=overridden.pk
            )
        ],
        person_id=people[2].pk,
        cell=held[2].cell,
        reason="the only cell with a ramp",
    )
    roll_count_record(
        actor=admin,
        facility=held[0].cell.facility,
        counted_at=now(),
        lines=[RollLine(cell=held[0].cell.code, counted=1, row=1)],
    )
    # ... and an alert acknowledged by the facility's director.
    from habeas.conditions.alerts import alerts_for
    from habeas.conditions.services import alert_acknowledge

    code = held[0].cell.facility.code
    director = User(username="matrix-director", role="facility_admin", facility_codes=[code])
    open_alerts = alerts_for(user=director)
    assert open_alerts, "the demo raises no alert in its facility: the matrix cannot ack one"
    alert_acknowledge(actor=admin, user=director, alert_id=open_alerts[0].id, note="seen")
    # ... a sensor token, and readings older than 30 days rolled up into hourly rows.

    from habeas.conditions.readings import CellIndex, Row, readings_ingest
    from habeas.conditions.retention import readings_rollup
    from habeas.conditions.sensors import sensor_token_create

    sensor_token_create(actor=admin, facility=held[0].cell.facility, name="gateway M1")
    old = now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=40)
    readings_ingest(
        actor=admin,
        rows=[Row(k, held[0].cell.pk, old + k * dt.timedelta(minutes=20), 30.0, 50.0, None)
              for k in range(6)],
        source="csv",
        name="old",
        cells=CellIndex(),
    )  # fmt: skip
    assert readings_rollup(actor=admin).hours == 2
    # ... and a possible match judged a different person by the receiving side.
    from habeas.transfers.identity import identity_decide
    from habeas.transfers.models import ManifestEntry

    judged = next(
        e for e in ManifestEntry.objects.filter(status="decided").order_by("pk") if e.candidates
    )
    identity_decide(
        actor=admin,
        user=User(username="matrix-superuser", is_superuser=True),
        entry=judged,
        person_id=int(judged.candidates[0]["person"]),
        verdict="different",
        reason="another mother, another village",
    )
    assert _problems() == [], "the scenario itself must verify"


@pytest.mark.parametrize("label", _tamper_targets())
def test_tampering_with_a_covered_table_is_named(demo: None, label: str) -> None:
    model = apps.get_model(label)
    table = _table_of(model, _covered())
    assert table is not None
    q = connection.ops.quote_name
    db_table = q(model._meta.db_table)
    pk = model._meta.pk
    assert pk is not None
    rows = list(
        model._base_manager.filter(**ROW_FILTER.get(label, {})).order_by(pk.name).values()[:1]
    )
    assert rows, f"the demo has no row of {label}: the matrix cannot test it"
    row = rows[0]
    key = row[pk.attname]
    unchecked = UNCHECKED.get(label, {})
    missed = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in unchecked:
            continue

        def update(field: models.Field[Any, Any] = field) -> None:
            together = TOGETHER.get(label, {}).get(field.name)
            if together is not None:
                values = together(row)
                columns = ", ".join(f"{q(model._meta.get_field(n).column)} = %s" for n in values)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {db_table} SET {columns} WHERE {q(pk.column)} = %s",
                        [*values.values(), key],
                    )
                return
            sql = f"UPDATE {db_table} SET {q(field.column)} = %s WHERE {q(pk.column)} = %s"
            old = row[field.attname]
            for candidate in (*_other_target(field, old), _changed(field, old),
                              *_fallbacks(field, old)):  # fmt: skip
                try:  # a value another row holds, or one a check constraint refuses: next
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(sql, [field.get_db_prep_save(candidate, connection), key])
                    return
                except (IntegrityError, DataError):  # DataError: out of a small column's range
                    continue
            raise AssertionError(f"{label}.{field.name}: no changed value the database takes")

        found = _in_savepoint(update, label, table)
        if not any(w.startswith(f"{table}.") for w in found):
            missed.append(field.name)
    assert missed == [], f"{label}: a changed field went unnoticed: {missed}"

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {db_table} WHERE {q(pk.column)} = %s", [key])

    assert any(w.startswith(f"{table}.") for w in _in_savepoint(delete, label, table)), (
        f"{label}: a deleted row went unnoticed"
    )

    column = q(model._meta.get_field(NATURAL_KEY.get(label, pk.name)).column)

    def rekey() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({column}) FROM {db_table}")
            top = cursor.fetchone()[0]
            cursor.execute(
                f"UPDATE {db_table} SET {column} = %s WHERE {q(pk.column)} = %s",
                [top + 1000, key],
            )

    found = _in_savepoint(rekey, label, table)
    assert any(w.startswith(f"{table}.") for w in found), f"{label}: an inserted row went unnoticed"


@pytest.mark.tampers
@pytest.mark.django_db
@pytest.mark.parametrize("relation", ["groups", "user_permissions"])
def test_a_granted_django_permission_is_named(relation: str) -> None:
    from django.contrib.auth.models import Group, Permission

    from habeas.accounts.models import User
    from habeas.accounts.services import user_create
    from habeas.core.actor import Actor

    user = user_create(
        actor=Actor(name="test:admin", role="facility_admin"),
        username="ana",
        password="a long and unguessable passphrase",
        role="oversight",
    )
    assert _problems() == []
    through = getattr(User, relation).through
    q = connection.ops.quote_name
    if relation == "groups":
        other = Group.objects.create(name="wardens").pk
        column = "group_id"
    else:
        other = Permission.objects.order_by("pk").first().pk
        column = "permission_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(through._meta.db_table)} (user_id, {column}) VALUES (%s, %s)",
            [user.pk, other],
        )
    assert any(w.startswith("accounts.User.permissions.") for w in _problems())


@pytest.mark.tampers
def test_a_comparison_limited_to_tables_finds_what_the_full_one_finds_there(demo: None) -> None:
    """``compare(tables=...)`` (used above to keep the matrix quick) names exactly the
    differences of the full comparison that fall in those tables."""
    from habeas.facilities.models import Cell, Facility

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Cell._meta.db_table} SET bunks = bunks + 1")
        cursor.execute(f"UPDATE {Facility._meta.db_table} SET name = name || ' (renamed)'")
    full = [(d.where, d.message) for d in compare(limit=10_000).differences]
    tables = {t for t in REGISTRY.tables if any(w.startswith(f"{t}.") for w, _ in full)}
    assert len(tables) >= 2, full
    for table in tables:
        limited = [(d.where, d.message) for d in compare(limit=10_000, tables={table}).differences]
        assert limited, table
        assert limited == [(w, m) for w, m in full if w.startswith(f"{table}.")]


def test_the_demo_shows_delivered_failed_and_dead_notifications(demo: None) -> None:
    """Issue 13's demo (read here, where the demo is loaded once): notifications delivered
    (family e-mails), failed and waiting for their retry (webhooks to receivers that are
    down), and one dead after its last try."""
    from habeas.notifications.models import Delivery

    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert {"sent", "failed", "dead"} <= statuses
