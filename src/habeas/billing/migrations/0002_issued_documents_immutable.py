"""Issued invoices and notes never change (STANDARDS.md, Billing): the database refuses every
DELETE and every UPDATE but the one from issued to paid that changes nothing else, on SQLite
and PostgreSQL, as the ledger's own append-only triggers do."""

from typing import Any

from django.db import migrations

TABLE = "billing_invoice"
FIXED = (
    "agreement_id", "kind", "period", "year", "sequence", "number", "refers_to_id", "currency",
    "total", "total_days", "ledger_root", "ledger_size", "issued_at", "document",
)  # fmt: skip


def _install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor

    def run(sql: str) -> None:
        schema_editor.execute(sql, params=None)

    if vendor == "sqlite":
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FIXED)
        run(
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'issued documents never change: DELETE refused on {TABLE}'); END;"
        )
        run(
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"WHEN NOT (OLD.status = 'issued' AND NEW.status = 'paid' AND {same}) "
            f"BEGIN SELECT RAISE(ABORT, 'issued documents never change: UPDATE refused on {TABLE}'); END;"
        )
    elif vendor == "postgresql":
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in FIXED)
        run(
            f"""
            CREATE OR REPLACE FUNCTION habeas_billing_immutable() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'UPDATE' THEN
                IF OLD.status = 'issued' AND NEW.status = 'paid' AND {same} THEN
                  RETURN NEW;
                END IF;
              END IF;
              RAISE EXCEPTION 'issued documents never change: % refused on %', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        run(
            f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION habeas_billing_immutable();"
        )
    else:  # pragma: no cover - only the two supported engines
        raise RuntimeError(f"unsupported database vendor {vendor}")


def _remove(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op};")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS habeas_billing_immutable();")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(_install, _remove)]
