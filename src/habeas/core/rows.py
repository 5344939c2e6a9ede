"""Plain multi-row inserts for the bulk services (ARCHITECTURE.md, the one rule; the
admissions' profile in docs/benchmarks.md).

Django's ``bulk_create`` prepares every value of every row field by field and compiles one
INSERT per few hundred rows; admitting a whole facility spent half its time there. The bulk
services (``person_create_many``, ``custody_admit_many`` and what they trigger) write their
rows here instead, as plain tuples through one ``executemany`` per table, the way the ledger
already does:

* the primary keys are allocated first (:meth:`Rows.ids`), so a service knows the ids its
  ledger entries name without reading anything back: on PostgreSQL from the table's own
  sequence (``nextval``, safe under concurrency), on SQLite past the table's
  ``AUTOINCREMENT`` counter under the write lock the transaction already holds (Habeas's
  SQLite transactions are ``IMMEDIATE``, settings.py), so the ids are the ones SQLite itself
  would have given;
* the values are handed over in the form Django's own field preparation stores
  (:meth:`Rows.instant`, :meth:`Rows.date`, :meth:`Rows.json`), so a row written here reads
  back exactly as one written by ``bulk_create``.

As with ``bulk_create`` on a :class:`~habeas.core.services.ServiceModel`, a domain model's
rows are refused outside a service.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.db import connections, models

from habeas.core.services import ServiceModel, WriteOutsideService, in_service


class Rows:
    """Inserts of plain rows on one database connection (inside the calling service's
    transaction)."""

    __slots__ = ("_instants", "connection", "postgres")

    def __init__(self, using: str = "default") -> None:
        self.connection = connections[using]
        self.postgres = self.connection.vendor == "postgresql"
        self._instants: dict[tuple[dt.datetime, int], Any] = {}

    # --- values as Django stores them -----------------------------------------------------

    def instant(self, value: dt.datetime | None) -> Any:
        """An aware time for a ``DateTimeField``: SQLite keeps naive UTC text (what
        ``adapt_datetimefield_value`` writes), PostgreSQL the aware datetime. Each distinct
        instant is converted once (the key carries ``fold``, as the ledger's does)."""
        if value is None or self.postgres:
            return value
        key = (value, value.fold)
        found = self._instants.get(key)
        if found is None:
            if value.utcoffset() is None:
                raise ValueError(f"a naive time cannot be stored: {value!r}")
            found = self._instants[key] = str(value.astimezone(dt.UTC).replace(tzinfo=None))
        return found

    def date(self, value: dt.date | None) -> Any:
        """A ``DateField``'s value (SQLite: ISO text, as ``adapt_datefield_value``)."""
        if value is None or self.postgres:
            return value
        return value.isoformat()

    def json(self, value: Any) -> Any:
        """A ``JSONField``'s value (``json.dumps`` text on SQLite, ``Jsonb`` on PostgreSQL:
        what Django's ``adapt_json_value`` hands the driver)."""
        if self.postgres:
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return json.dumps(value)

    # --- keys and inserts -----------------------------------------------------------------

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        """``count`` new primary keys of ``model``'s table, in increasing order."""
        if count <= 0:
            return []
        _guard(model)
        table = model._meta.db_table
        pk = model._meta.pk
        assert pk is not None
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, pk.column, count],
                )
                return [int(n) for (n,) in cursor.fetchall()]
            q = self.connection.ops.quote_name
            cursor.execute(
                "SELECT MAX(n) FROM (SELECT seq AS n FROM sqlite_sequence WHERE name = %s "  # noqa: S608
                f"UNION ALL SELECT MAX({q(pk.column)}) FROM {q(table)})",
                [table],
            )
            row = cursor.fetchone()
        last = int(row[0]) if row and row[0] is not None else 0
        return list(range(last + 1, last + 1 + count))

    def insert(
        self,
        model: type[models.Model] | str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """``executemany`` of ``rows`` (values already in the stored form) into ``model``'s
        table, or the table named. On PostgreSQL through a server-side-binding psycopg
        cursor on the same connection and transaction (Django's client-side binding quotes
        every value in Python); errors are translated as Django's cursor would."""
        if not rows:
            return
        if not isinstance(model, str):
            _guard(model)
        table = model if isinstance(model, str) else model._meta.db_table
        q = self.connection.ops.quote_name
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})"  # noqa: S608
        if not self.postgres:
            with self.connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            return
        import psycopg

        connection = self.connection
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
            raw.executemany(sql, rows)


def _guard(model: type[models.Model]) -> None:
    """As :class:`~habeas.core.services.ServiceQuerySet`: a domain model's rows only inside a
    service (the derived tables' listeners and the ledger's keys have their own rules)."""
    if issubclass(model, ServiceModel) and not in_service():
        raise WriteOutsideService(f"{model.__name__}: plain insert outside a service")
