"""The access log is append-only (Mandela Rules 6 and 9): the database refuses UPDATE and
DELETE on it, on SQLite and PostgreSQL, exactly as ``ledger/migrations/0002_append_only.py``
does for the ledger. A record of who looked at whose file is worthless if it can be edited."""

from typing import Any

from django.db import migrations

TABLE = "oversight_accesslog"


def _install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor

    def run(sql: str) -> None:
        schema_editor.execute(sql, params=None)  # no placeholders: '%' is plpgsql's

    if vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            run(
                f"CREATE TRIGGER {TABLE}_no_{op.lower()} BEFORE {op} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'access log is append-only: {op} refused on {TABLE}'); END;"
            )
    elif vendor == "postgresql":
        run(
            """
            CREATE OR REPLACE FUNCTION habeas_access_log_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'access log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        run(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION habeas_access_log_append_only();"
        )
    else:  # pragma: no cover - only the two supported engines
        raise RuntimeError(f"unsupported database vendor {vendor}")


def _remove(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op};")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS habeas_access_log_append_only();")


class Migration(migrations.Migration):
    dependencies = [("oversight", "0001_initial")]
    operations = [migrations.RunPython(_install, _remove)]
