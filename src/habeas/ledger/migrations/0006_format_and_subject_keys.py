"""Ledger format 2: personal fields as keyed commitments under per-subject keys.

The head records the format its entries were written in. A database whose ledger already holds
entries was written by an earlier version (format 1: personal data in clear), so its head is
marked 1 and ``verify-ledger`` refuses it with what to do; an empty ledger starts at format 2.
"""

from typing import Any

from django.db import migrations, models


def _mark_existing(apps: Any, schema_editor: Any) -> None:
    head = apps.get_model("ledger", "LedgerHead")
    head.objects.filter(size__gt=0).update(format=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_rowid_keys_and_indexes")]

    operations = [
        migrations.AddField(
            model_name="ledgerhead",
            name="format",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.RunPython(_mark_existing, migrations.RunPython.noop),
        migrations.CreateModel(
            name="SubjectKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=64, unique=True)),
                ("key", models.BinaryField()),
                ("created_at", models.DateTimeField()),
            ],
        ),
    ]
